"""A multilingual tokenizer test corpus: English, Chinese, Japanese, emoji, code, control bytes and
invalid UTF-8 (as bytes)."""

TEXTS = [
    "The quick brown fox jumps over the lazy dog. It's 3:45pm — time for tea!\n\n",
    "In 1865, Lewis Carroll wrote: \"Curiouser and curiouser!\" cried Alice.",
    "人工智能正在改变世界。我们需要理解它的原理，以及它对社会的影响。",
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。カタカナもひらがなも。",
    "한국어 문장도 있습니다. Ελληνικά κείμενα. Русский текст. العربية. हिन्दी",
    "Emoji: 😀😃😄 👩‍👩‍👧‍👦 🇯🇵 🏳️‍🌈 ✨🔥💯 and skin tones 👍🏽👍🏿",
    "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n\tprint({'a': [1, 2]})\r\n",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\n",
    "Control bytes: \x00\x01\x02\x07\x08\x1b[31mred\x1b[0m\x7f end",
    "   leading and trailing spaces   \n\n\n\n   ",
    "Mixed: naïve café résumé Zürich Ångström — “quotes” ‘single’ …",
    "<s>literal special-looking text</s> [PAD0] <|endoftext|>",
    "",
    "a",
    "\n",
]

BYTES = [
    b"\xff\xfe invalid start",
    b"truncated utf-8 \xe4\xbd",
    b"\xed\xa0\x80 surrogate half",
    b"\xc0\xaf overlong slash",
    b"\x80\x81\x82 lone continuations",
    bytes(range(256)),
    "valid 中文 then bad ".encode() + b"\xff",
]
