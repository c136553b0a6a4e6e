"""Write data/stats.py's tables into data/README.md between its stats markers.

Run from the project root: python data/update_datasheet.py
"""

from pathlib import Path

from stats import render

DATASHEET = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- stats:begin -->\n", "<!-- stats:end -->"

text = DATASHEET.read_text(encoding="utf-8")
head, rest = text.split(BEGIN)
DATASHEET.write_text(head + BEGIN + render() + END + rest.split(END, 1)[1], encoding="utf-8")
