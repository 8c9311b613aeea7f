"""Make the logo font: DejaVu Sans Bold cut down to the glyphs motiftool draws.

Run once (needs fontTools: `pip install fonttools`); the output is committed, so
neither building nor testing needs Python:

    python3 data/fonts/make_subset.py /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
"""
import sys
from pathlib import Path

from fontTools import subset

GLYPHS = "ACGTbits0123456789.-"


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    out = Path(__file__).with_name("DejaVuSans-Bold-logo.ttf")
    opts = subset.Options()
    opts.layout_features = []
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    font = subset.load_font(src, opts)
    sub = subset.Subsetter(opts)
    sub.populate(text=GLYPHS)
    sub.subset(font)
    subset.save_font(font, str(out), opts)
    print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
