"""Wide modern plates are read whole: the contract's region around the number's box keeps its end digits, and the
shipped reader reads all of them (train.synth's plates: wide-set digits on metal, ceramic, acrylic; issue #29)."""

import numpy as np

from edge_app.contract import crop_region, union_box
from edge_app.inference.reader import DEFAULT_MODEL, HouseNumberModel
from edge_app.regions import detection_region
from edge_app.tta import weighed_reading
from train.synth.render import render


def _wide_plates(count: int, digits: int, seed: int):
    out, i = [], 0
    while len(out) < count:
        p = render(np.random.default_rng([seed, i]), plates_share=1.0)
        i += 1
        box = union_box(p.boxes)
        if len(p.digits) == digits and box.width >= 2 * box.height:  # wide: twice as wide as tall, or more
            out.append((np.asarray(p.image.convert("RGB")), box, "".join(map(str, p.digits))))
    return out


def test_a_wide_four_digit_plate_is_read_whole():
    reader = HouseNumberModel(DEFAULT_MODEL, threads=1)
    plates = _wide_plates(16, 4, seed=78)
    readings = [weighed_reading(reader.probabilities, [crop_region(image, detection_region(box))], 3)
                for image, box, _ in plates]
    whole = sum(r.length == 4 for r in readings)
    right = sum(r.text == truth for r, (_, _, truth) in zip(readings, plates))
    assert whole >= 15 and right >= 13, f"{whole} of 16 read with four digits, {right} read right"
