"""The demo (``make demo``, issue 14 item 3): it prints what goes in, the default model's search
finds what the README says it finds, a document is read once, generated text ends at a sentence
boundary, and each stage is timed."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from types import SimpleNamespace

import rwkv_gpu
from rwkv_gpu import demo


def lines_fit(text: str) -> bool:
    return all(len(line) <= demo.WIDTH or " " not in line.strip() for line in text.splitlines())


def flat(text: str) -> str:
    """The text with its line wrapping undone (every run of white space one space)."""
    return " ".join(text.split())


def test_bible_task_on_the_default_model():
    out = io.StringIO()
    timings = demo.run_demo(str(rwkv_gpu.default_model_path()), out=out)
    text = out.getvalue()
    assert "Task:   bible" in text
    for passage in [*demo.PASSAGES, *demo.PASSAGE.splitlines()]:  # what goes in is printed
        assert passage in flat(text)
    # Each query's best passage is the one it asks for (as the README's output shows).
    best = dict(re.findall(r'^ +"(.+)"\n +[+-]\d\.\d\d +(\d)\. ', text, flags=re.M))
    assert best == dict(zip(demo.QUERIES, ["3", "4", "7", "8"]))
    # Both verses continue the passage's state (a copy each): only their openings are new tokens.
    assert re.findall(r"Prompt \((\d+) tokens\)", flat(text)) == [str(len(o)) for o in demo.OPENINGS]
    verses = re.findall(r"^  Verse \d: its opening .*?\n(.*?)\n +\d+ tokens, ended at (the end of the line|max_tokens)",
                        text, flags=re.S | re.M)
    assert len(verses) == 2 and [flat(v)[:len(o)] for (v, _), o in zip(verses, demo.OPENINGS)] == demo.OPENINGS
    for verse, ended in verses:  # the end of a verse (a line of the corpus), else a full stop
        assert ended == "the end of the line" or verse.rstrip().endswith((".", "?", "!")), verse
    assert list(timings) == ["load model", "search: passages (one batch)", "search: queries, ranking",
                             "read the passage (doc state)", "verse 4", "verse 5"]
    assert all(s > 0 for s in timings.values()) and f"{'total':<32}" in text
    assert lines_fit(text)


def test_email_task_through_the_command_line(tiny_gguf):
    out = subprocess.run([sys.executable, "-m", "rwkv_gpu", "demo", "-m", str(tiny_gguf)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Task:   email" in text and "not understanding" in text  # a byte-level model is flagged
    assert flat(demo.EMAIL) in flat(text) and "Question: What does the sender ask for, and by when?" in text
    for stage in ("[1] Read the email once", "[2] Field analysis", "[3] A question", "Timings"):
        assert stage in text
    for field in demo.SCHEMA:
        assert len(re.findall(rf"^ +\d\. {field} ", text, flags=re.M)) == 1
    # The email is read once: the question's prompt is its own tokens only.
    assert f"Prompt ({len(demo.QUESTION.encode())} tokens)" in flat(text)
    assert lines_fit(text)


def test_unknown_task_is_a_clear_error(tiny_gguf):
    out = subprocess.run([sys.executable, "-m", "rwkv_gpu", "demo", "-m", str(tiny_gguf), "--task", "poetry"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "invalid choice: 'poetry'" in out.stderr


class FakeStream:
    """What Writer.stream reads of a GenerationStream: text pieces, then ``result``."""

    def __init__(self, pieces: list[str], finish_reason: str):
        self.pieces, self.result = pieces, SimpleNamespace(finish_reason=finish_reason)

    def __iter__(self):
        return iter(self.pieces)


def streamed(pieces: list[str], finish_reason: str) -> tuple[str, int]:
    out = io.StringIO()
    _, left_out = demo._Writer(out).stream("Begin", FakeStream(pieces, finish_reason))
    return out.getvalue(), left_out


def test_generation_cut_at_the_last_sentence_end():
    # Cut by max_tokens: the text ends at the last full stop, and says how much it left out.
    text, left_out = streamed([" one. Two", " is 3.", "5 long! Three and f"], "length")
    assert text == "    Begin one. Two is 3.5 long!\n" and left_out == len(" Three and f")
    # "3." followed by a digit is no sentence end; a closing quote belongs to the sentence.
    text, left_out = streamed([' He said, "Go."', " Then"], "length")
    assert text == '    Begin He said, "Go."\n' and left_out == len(" Then")
    # Ended by the stop string (the end of a verse): everything is kept.
    text, left_out = streamed([" and it was so:", " evening"], "stop")
    assert text == "    Begin and it was so: evening\n" and left_out == 0


def test_writer_wraps_long_lines_at_spaces():
    out = io.StringIO()
    demo._Writer(out).block("word " * 60 + "\nshort   line")
    lines = out.getvalue().splitlines()
    assert all(len(line) <= demo.WIDTH for line in lines)
    assert lines[0].startswith("    word") and lines[1].startswith("      word")  # continuation: 2 more
    assert lines[-1] == "    short   line"  # spaces inside a line are kept
