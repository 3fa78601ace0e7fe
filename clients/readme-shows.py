"""readme-shows.py README FILE...: fails unless README shows each FILE as it
is, indented by four spaces (a Markdown code block), so the recipes the
README gives are the ones the client tests run."""
import sys

readme = open(sys.argv[1]).read()
for path in sys.argv[2:]:
    block = "".join("    " + line if line.strip() else line for line in open(path).read().splitlines(True))
    if block not in readme:
        sys.exit(f"README.md does not show {path} as it is; paste it in, indented by four spaces")
