"""The README's main job (``make demo`` / ``rwkv-gpu demo``): it prints what goes in, what comes
out and the time of each stage, on a task the model at hand can do.

- ``bible``, for the embedded default model (byte-level, 2M parameters, trained on the King James
  Bible only): rank eight passages against four queries by their vectors, then read a passage
  once and continue it twice from its recurrent state, a verse at a time.
- ``email``, for any other model (a real World model: ``make demo MODEL=model.gguf``): read an
  email once, rank a six-field schema against its vector (field analysis), and answer a question
  from its state.

A document is read once: later stages reuse its vector and (a copy of) its state. Generated text
ends at a sentence boundary: the end of the verse or paragraph, else the last full stop.
"""

from __future__ import annotations

import os
import re
import sys
import time

TASKS = ("bible", "email")

# [1] of the bible task: passages of different books, and queries that each ask for one of them.
PASSAGES = [
    "In the beginning God created the heaven and the earth.",
    "The LORD is my shepherd; I shall not want.",
    "And Noah went in, and his sons, and his wife, into the ark, because of the waters of the flood.",
    "And the children of Israel went out of Egypt, and Moses led them through the sea.",
    "And David took an harp, and played with his hand before Saul.",
    "For God so loved the world, that he gave his only begotten Son.",
    "And Jesus took bread, and blessed it, and brake it, and gave it to the disciples.",
    "Honour thy father and thy mother, that thy days may be long upon the land.",
]
QUERIES = ["the waters of the flood", "Moses and the sea", "the bread of the disciples", "long days upon the land"]

# [2] of the bible task: Genesis 1:1-3, then the openings of verses 4 and 5 to continue from.
PASSAGE_NAME = "Genesis 1:1-3"
PASSAGE = """In the beginning God created the heaven and the earth.
And the earth was without form, and void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters.
And God said, Let there be light: and there was light.
"""
OPENINGS = ["And God saw the light,", "And God called"]  # of verses 4 and 5
VERSE = dict(max_tokens=300, temperature=0.6, top_p=0.85, presence_penalty=0.2, frequency_penalty=0.2, stop="\n")

EMAIL = """From: Martha Reyes <m.reyes@harbor-supply.example>
To: Accounts Payable <ap@northwind.example>
Subject: Invoice 4471 overdue - second reminder

Dear accounts team,

Our invoice 4471 for the March delivery of marine rope and deck fittings, 2,380.00 USD,
was due on April 30 and is still unpaid. Could you confirm when the payment will be sent?
If there is a problem with the goods or the invoice, please call me at 555-0142 before
Friday, May 16, so we can sort it out without stopping further deliveries.

Kind regards,
Martha Reyes, Harbor Supply Co."""

SCHEMA = {
    "payment_request": "a request to pay an invoice or an overdue amount of money",
    "deadline": "a date by which something must happen",
    "contact_details": "a phone number or address to reach the sender",
    "product_complaint": "a complaint that delivered goods are broken or wrong",
    "meeting_invitation": "an invitation to a meeting or a call at a set time",
    "job_application": "a person applying for a job or sending a resume",
}
QUESTION = "\n\nQuestion: What does the sender ask for, and by when?\n\nAnswer:"
ANSWER = dict(max_tokens=120, temperature=0.3, top_p=0.5, stop="\n\n")

WIDTH = 100  # columns of the wrapped text
# A sentence ends at . ? or ! (closing quotes or brackets included) before white space or the end.
SENTENCE_END = re.compile(r"[.?!][\"')\]]*(?=\s|$)")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms"


class _Writer:
    """Writes text to ``out`` as it comes (flushed), wrapped at spaces to WIDTH columns: each line
    starts ``indent`` spaces in, its continuation lines two more."""

    def __init__(self, out):
        self.out, self.indent = out, 0
        self.column, self.space = 0, ""  # space: what separates the next word from the last

    def write(self, text: str) -> None:
        for part in re.split(r"( +|\n)", text):
            if part == "\n":
                self.out.write("\n")
                self.column, self.space = 0, ""
            elif part.startswith(" "):
                self.space = part
            elif part:
                if self.column == 0:
                    self._put(" " * self.indent)
                elif self.space and self.column + len(self.space) + len(part) > WIDTH:
                    self.out.write("\n")
                    self.column = 0
                    self._put(" " * (self.indent + 2))
                else:
                    self._put(self.space)
                self._put(part)
                self.space = ""
        self.out.flush()

    def _put(self, s: str) -> None:
        self.out.write(s)
        self.column += len(s)

    def end(self) -> None:
        """Ends the current line, if one is open."""
        if self.column:
            self.out.write("\n")
            self.out.flush()
        self.column, self.space = 0, ""

    def block(self, text: str, indent: int = 4) -> None:
        """``text`` as whole lines (an empty one: a blank line)."""
        self.end()
        self.indent = indent
        self.write(text or "\n")
        self.end()

    def head(self, text: str) -> None:
        self.block(text, indent=0)

    def stream(self, prompt: str, stream, indent: int = 4):
        """Writes the prompt, then the generation a sentence at a time: what follows the last
        sentence end waits for the next one. The text ends where a stop string or token ended the
        generation, else at its last sentence end. Returns (Generation, characters left out)."""
        self.end()
        self.indent = indent
        self.write(prompt.lstrip("\n"))  # the newlines after the document in the state: not shown
        pending = ""
        for piece in stream:
            pending += piece
            # Only where the white space after it has arrived: "3." may yet become "3.5".
            cut = max((m.end() for m in SENTENCE_END.finditer(pending) if m.end() < len(pending)), default=0)
            self.write(pending[:cut])
            pending = pending[cut:]
        result = stream.result
        if result.finish_reason == "stop":
            pending = pending.rstrip()
            cut = len(pending)
        else:
            cut = max((m.end() for m in SENTENCE_END.finditer(pending)), default=0)
        self.write(pending[:cut])
        self.end()
        left_out = len(pending) - cut
        return result, left_out


def run_demo(model_path: str, device: str | None = None, seed: int = 7, task: str = "auto",
             out=None) -> dict[str, float]:
    """Runs the demo, printing to ``out`` (stdout); returns the seconds of each stage.

    ``task``: ``"bible"``, ``"email"`` or ``"auto"`` (bible on the embedded default model, email
    on any other). ``seed``: the sampling seed of the first generation (the second uses seed + 1).
    """
    from . import Model, default_model_path, devices

    if task == "auto":
        default = os.path.exists(model_path) and os.path.samefile(model_path, default_model_path())
        task = "bible" if default else "email"
    if task not in TASKS:
        raise ValueError(f"demo task must be 'auto' or one of {TASKS}, not {task!r}")
    w = _Writer(out or sys.stdout)
    t0 = time.perf_counter()
    with Model(model_path, device) as model:
        timings = {"load model": time.perf_counter() - t0}
        i = model.info
        used = next((d for d in devices() if d.name == i["device"]), None)
        w.head(f"Device: {used.summary() if used else i['device']}")
        w.head(f"Model:  {os.path.basename(model_path)}: {i['n_layer']} layers, n_embd {i['n_embd']}, {i['n_head']} "
               f"heads of {i['head_size']}, vocab {i['vocab']}, precision {i['precision']}; loaded in "
               f"{_ms(timings['load model'])}")
        (_bible if task == "bible" else _email)(model, w, seed, timings)
    w.head("\nTimings (this device):")
    for stage, seconds in timings.items():
        w.block(f"{stage:<32} {_ms(seconds):>9}")
    w.block(f"{'total':<32} {_ms(sum(timings.values())):>9}")
    return timings


def _continue_from(w: _Writer, model, state, prompt: str, reread_s: float, **sampling) -> float:
    """Streams a generation from a copy of ``state`` (the document is not read again); returns its
    seconds."""
    g, left_out = w.stream(prompt, model.generate(prompt, state=state.clone(), stream=True, **sampling))
    from . import DEFAULT_STOP_TOKENS

    end_of_document = g.finish_reason == "stop" and g.tokens and g.tokens[-1] in DEFAULT_STOP_TOKENS
    ended = {"stop": "the end-of-document token" if end_of_document else "the end of the line",
             "length": f"max_tokens, cut at the last full stop ({left_out} characters left out)",
             }.get(g.finish_reason, g.finish_reason)
    w.block(f"{len(g.tokens)} tokens, ended at {ended}. Prompt ({g.prompt_tokens} tokens) and first token "
            f"{_ms(g.timings['first_token_s'])} (reading the document again would add {_ms(reread_s)}), "
            f"then {g.timings['decode_tokens_per_s']:.0f} tokens/s", indent=2)
    return g.timings["total_s"]


def _read(w: _Writer, model, text: str, pooling: str):
    """The document's DocState, read once; prints the text and what reading it gave."""
    from . import workloads

    w.block(text.rstrip())
    doc = workloads.doc_state(model, text, pooling=pooling)
    seconds = sum(doc.timings.values())
    w.block(f"{doc.n_tokens} tokens read in {_ms(seconds)} -> a state of {model.info['state_floats']:,d} floats and "
            f"its vector [{doc.vector.shape[0]}] (pooling \"{pooling}\")", indent=2)
    return doc, seconds


def _bible(model, w: _Writer, seed: int, timings: dict[str, float]) -> None:
    from . import top_k

    w.head("Task:   bible (the default model is byte-level and has read only the King James Bible; "
           "`make demo MODEL=model.gguf` runs the email task on a real model)")

    w.head(f"\n[1] Search: {len(PASSAGES)} passages and {len(QUERIES)} queries, one vector each (pooling \"state\": "
           "from the recurrent state after the last byte)")
    for n, passage in enumerate(PASSAGES, 1):
        w.block(f"{n}. {passage}")
    t0 = time.perf_counter()
    passages = model.embed_batch(PASSAGES, pooling="state", normalize=True)
    t1 = time.perf_counter()
    queries = model.embed_batch(QUERIES, pooling="state", normalize=True)
    best, scores = top_k(queries, passages, k=2)
    t2 = time.perf_counter()
    timings["search: passages (one batch)"] = t1 - t0
    timings["search: queries, ranking"] = t2 - t1
    w.block(f"the passages in one batch: {_ms(t1 - t0)}; the queries in one batch, then ranked: {_ms(t2 - t1)}. "
            "Each query's best two passages (cosine):", indent=2)
    for query, rows, row_scores in zip(QUERIES, best, scores):
        w.block(f"\"{query}\"")
        for row, score in zip(rows, row_scores):
            w.block(f"{score:+.2f}  {row + 1}. {PASSAGES[row]}", indent=6)
    w.block("(2M parameters that have read one book: the state remembers mostly the last words read, so a query "
            "finds the passage that ends like it; docs/embeddings.md compares the poolings)", indent=2)

    w.head(f"\n[2] Read {PASSAGE_NAME} once (doc state), then continue it twice from copies of its state "
           f"(temperature {VERSE['temperature']}, top-p {VERSE['top_p']}):")
    doc, timings["read the passage (doc state)"] = _read(w, model, PASSAGE, "state")
    for n, opening in enumerate(OPENINGS):
        w.block(f"\nVerse {4 + n}: its opening \"{opening}\" given, the rest generated (seed {seed + n}):", indent=2)
        timings[f"verse {4 + n}"] = _continue_from(w, model, doc.state, opening, timings["read the passage (doc state)"],
                                                   seed=seed + n, **VERSE)


def _email(model, w: _Writer, seed: int, timings: dict[str, float]) -> None:
    from . import workloads

    w.head("Task:   email")
    if model.info["vocab"] <= 256:
        w.block("(a byte-level model, such as the default one, which has read only the King James Bible, shows "
                "the mechanics here, not understanding; the bible task, `rwkv-gpu demo` on the default model, "
                "shows what that one can do)", indent=8)

    w.head("\n[1] Read the email once (doc state):")
    doc, timings["read the email (doc state)"] = _read(w, model, EMAIL, "mean")

    w.head(f"\n[2] Field analysis: {len(SCHEMA)} fields ranked against the email's vector (from its doc state: "
           "the email is not read again)")
    fa = workloads.field_analysis(model, doc, SCHEMA, pooling="mean")
    timings["field analysis"] = sum(fa.timings.values())
    for rank, (name, score) in enumerate(fa.ranking, 1):
        w.block(f"{rank}. {name:<20} {score:+.4f}   {SCHEMA[name]}")
    w.block(f"the {len(SCHEMA)} field prompts in one batch, then ranked: {_ms(timings['field analysis'])}", indent=2)

    w.head(f"\n[3] A question, answered from a copy of the email's state (temperature {ANSWER['temperature']}, "
           f"top-p {ANSWER['top_p']}, seed {seed}):")
    timings["answer"] = _continue_from(w, model, doc.state, QUESTION, timings["read the email (doc state)"],
                                       seed=seed, **ANSWER)
