"""What the benchmarks share for printing their figures."""


def markdown_table(rows: list[tuple[str, ...]]) -> str:
    """Rows of text cells (the first one the head) as a Markdown table."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
