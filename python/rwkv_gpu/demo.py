"""The README's main job (``make demo`` / ``rwkv-gpu demo``): the device, a streamed paragraph,
doc state and field analysis of a sample email with a 6-field schema, and the time of each stage."""

from __future__ import annotations

import os
import sys
import time

PROMPT = "And it came to pass, when the king"

EMAIL = """From: Martha Reyes <m.reyes@harbor-supply.example>
To: Accounts Payable <ap@northwind.example>
Subject: Invoice 4471 overdue - second reminder

Dear accounts team,

Our invoice 4471 for the March delivery of marine rope and deck fittings, 2,380.00 USD, was due
on April 30 and is still unpaid. Could you confirm when the payment will be sent? If there is a
problem with the goods or the invoice, please call me at 555-0142 before Friday, May 16, so we can
sort it out without stopping further deliveries.

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


def run_demo(model_path: str, device: str | None = None, seed: int = 7, out=None) -> dict[str, float]:
    """Runs the demo, printing to ``out`` (stdout); returns the seconds of each stage."""
    from . import DEFAULT_MODEL, Model, devices, workloads

    out = out or sys.stdout

    def say(*parts, **kw):
        print(*parts, file=out, flush=True, **kw)

    timings: dict[str, float] = {}
    selected = next((d for d in devices() if d.selected), None)
    say(f"Device: {selected.summary() if selected else 'none'}")
    t0 = time.perf_counter()
    model = Model(model_path, device)
    timings["load model"] = time.perf_counter() - t0
    i = model.info
    say(f"Model:  {os.path.basename(model_path)}: {i['n_layer']} layers, n_embd {i['n_embd']}, {i['n_head']} heads of "
        f"{i['head_size']}, vocab {i['vocab']}, {sum(n for _, n in i['weight_types'])} tensors "
        f"({', '.join(f'{k} x{n}' for k, n in i['weight_types'])}); loaded in {timings['load model'] * 1e3:.0f} ms")

    say(f"\n[1] Generation (temperature 0.8, top-p 0.85, seed {seed}), streamed:\n")
    say(PROMPT, end="")
    stream = model.generate(PROMPT, 160, temperature=0.8, top_p=0.85, presence_penalty=0.2, frequency_penalty=0.2,
                            seed=seed, stop="\n\n", stream=True)
    for piece in stream:
        say(piece, end="")
    g = stream.result
    timings["generate"] = g.timings["total_s"]
    say(f"\n\n    {len(g.tokens)} tokens ({g.finish_reason}); first token {g.timings['first_token_s'] * 1e3:.1f} ms, "
        f"then {g.timings['decode_tokens_per_s']:.0f} tokens/s")

    say("\n[2] Doc state of a sample email")
    doc = workloads.doc_state(model, EMAIL)
    timings["doc state"] = sum(doc.timings.values())
    say(f"    {doc.n_tokens} tokens -> vector [{doc.vector.shape[0]}] (L2-normalized) and a state of "
        f"{i['state_floats']:,d} floats; {timings['doc state'] * 1e3:.1f} ms "
        f"(tokenize {doc.timings['tokenize'] * 1e3:.2f}, prefill + embed {doc.timings['prefill_and_embed'] * 1e3:.1f})")

    say(f"\n[3] Field analysis: {len(SCHEMA)} fields ranked by cosine similarity to the email")
    if os.path.basename(model_path) == DEFAULT_MODEL:
        say("    (the default model has read only the King James Bible: its ranking of email fields shows the\n"
            "     mechanics, not understanding; MODEL=path/to/a-World-model.gguf gives a meaningful one)")
    fa = workloads.field_analysis(model, doc, SCHEMA)  # the email's vector from [2]: not run again
    timings["field analysis"] = sum(fa.timings.values())
    for rank, (name, score) in enumerate(fa.ranking, 1):
        say(f"    {rank}. {name:<20} {score:+.4f}   {SCHEMA[name]}")
    say(f"    {timings['field analysis'] * 1e3:.1f} ms (document: its doc state's vector, {fa.timings['document'] * 1e3:.2f}, "
        f"{len(SCHEMA)} fields in one batch {fa.timings['fields'] * 1e3:.1f})")

    say("\nTimings (seconds, this device):")
    for stage, seconds in timings.items():
        say(f"    {stage:<16} {seconds:8.4f}")
    return timings
