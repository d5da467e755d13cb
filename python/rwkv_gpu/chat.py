"""Chat templates: OpenAI-style ``messages`` rendered as the text prompt an RWKV model continues.

The RWKV World models were trained on turns of the form ``Role: text`` separated by a blank line,
with the assistant's turn left open after ``Assistant:``::

    System: You are a helpful assistant.

    User: What is the capital of France?

    Assistant: Paris.

    User: And of Italy?

    Assistant:

A blank line ends a turn, so a blank line inside a message would end it early: the template
collapses runs of blank lines inside a message to one newline. The model writes its answer after
``Assistant:`` starting with a space (its tokens begin with one); that space is not part of the
answer and is dropped. Generation stops at the next blank line (the template's ``stop``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class ChatTemplate:
    """How ``messages`` become a prompt: each message as ``roles[role] + content``, joined by
    ``separator``, then ``separator + assistant_prefix`` (the open turn the model completes).

    Attributes:
        name: the name ``create_chat_completion`` and ``rwkv-gpu serve --chat-template`` take.
        roles: the prefix of each role's turn; a message with another role is a ValueError.
        assistant_prefix: what opens the assistant's turn (no trailing space: the model's first
            token carries it).
        separator: what ends a turn.
        stop: the strings that end the assistant's turn (added to the request's own ``stop``).
        collapse_blank_lines: replace blank lines inside a message with one newline.
    """

    name: str
    roles: dict[str, str] = field(default_factory=dict)
    assistant_prefix: str = "Assistant:"
    separator: str = "\n\n"
    stop: tuple[str, ...] = ("\n\n",)
    collapse_blank_lines: bool = True

    def render(self, messages: Sequence[dict]) -> str:
        """The prompt for ``messages`` (dicts with ``role`` and ``content``: a string, or a list of
        ``{"type": "text", "text": ...}`` parts as OpenAI's API allows)."""
        if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)) or not messages:
            raise ValueError("messages must be a non-empty list of {'role': ..., 'content': ...}")
        turns = []
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise ValueError(f"messages[{i}] must be an object with 'role' and 'content', not {message!r}")
            role = message.get("role")
            if role not in self.roles:
                raise ValueError(f"messages[{i}].role must be one of {', '.join(self.roles)}, not {role!r}")
            text = _content_text(message.get("content"), i).strip()
            if self.collapse_blank_lines:
                text = _BLANK_LINES.sub("\n", text)
            turns.append(self.roles[role] + (" " + text if text else ""))
        return self.separator.join(turns + [self.assistant_prefix])

    def strip_reply(self, text: str) -> str:
        """The answer as the model wrote it after ``assistant_prefix``, without the leading space
        its first token carries."""
        return text[1:] if text.startswith(" ") else text


def _content_text(content, i: int) -> str:
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                                         for p in content):
        return "".join(p["text"] for p in content)
    raise ValueError(f"messages[{i}].content must be a string or a list of text parts; only text is supported")


RWKV_WORLD = ChatTemplate(
    name="rwkv-world",
    roles={"system": "System:", "developer": "System:", "user": "User:", "assistant": "Assistant:"},
)

CHAT_TEMPLATES: dict[str, ChatTemplate] = {RWKV_WORLD.name: RWKV_WORLD}
DEFAULT_CHAT_TEMPLATE = RWKV_WORLD.name


def chat_template(template: str | ChatTemplate | None) -> ChatTemplate:
    """A template by name (``CHAT_TEMPLATES``), or the given one; None: the default (rwkv-world)."""
    if isinstance(template, ChatTemplate):
        return template
    name = DEFAULT_CHAT_TEMPLATE if template is None else template
    if name not in CHAT_TEMPLATES:
        raise ValueError(f"unknown chat template {name!r} (known: {', '.join(CHAT_TEMPLATES)})")
    return CHAT_TEMPLATES[name]
