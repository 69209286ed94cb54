"""Suppressions are comments: text that looks like one inside a string literal suppresses nothing.
Cases with `suppressed=True` carry a genuine comment, where check must stay silent (delete-plan
still has to list the breakage)."""

from ._make import family

case = family("suppressions")
M = "from pkg import feat"

CASES = [
    case("string-on-import-line", f'{M}; _ = "# scopeguard: ignore"\n', "breaks"),
    case("string-with-code", f'{M}; _ = "# scopeguard: ignore[SG201]"\n', "breaks"),
    case("fstring-on-import-line", f'{M}; _ = f"{{1}} # scopeguard: ignore"\n', "breaks"),
    case("bytes-on-import-line", f'{M}; _ = b"# scopeguard: ignore"\n', "breaks"),
    case("triple-quoted-end-line", f'X = """\n"""; {M}; Y = "# scopeguard: ignore"\n', "breaks"),
    case("comment-other-code", f"{M}  # scopeguard: ignore[SG999]\n", "breaks"),
    case("comment-line-above", f"# scopeguard: ignore\n{M}\n", "breaks", suppressed=True),  # issue 16: a comment line directly above covers the statement
    case("genuine-comment", f"{M}  # scopeguard: ignore\n", "breaks", suppressed=True),
    case("genuine-comment-with-code", f"{M}  # scopeguard: ignore[SG201]  kept for 0.28\n", "breaks", suppressed=True),
]
