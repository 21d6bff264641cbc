"""Procedurally drawn 96x96 cartoon faces: the embedded default data set.

The original project trains its faces WGAN-GP on a folder of 96x96 anime face
crops listed in ``face_data.csv``.  No face data set can be downloaded on the
machines this port is built and tested on, and shipping one would bloat the
repository, so ``python -m genface train`` falls back to faces drawn here.

The faces are drawn, not sampled from a learned model, so they are exactly
reproducible: face ``i`` of seed ``s`` depends only on ``(s, i)``.  They vary
along the axes a GAN can be seen to learn (face shape, skin tone, hair colour
and style, eye colour and size, expression, blush, accessories, background),
while keeping the layout of anime face crops: one centred face filling most of
the frame.  ``draw_labelled_faces`` also gives the factors each face was drawn
from (``FACTORS``), which the classifier behind ``genface evaluate``
(:mod:`genface.scorer`) learns to read off the pictures.

A face is made in two steps: every random factor it needs is drawn first,
into a frozen ``_Face``, in a fixed order (that order is what defines the data
set), then one small painter per face part paints it, back to front.  Painting
happens at ``_SS`` times the output resolution with anti-aliased OpenCV
primitives and is reduced with ``INTER_AREA``, which gives smooth edges
cheaply.  Every colour is handled in RGB order; OpenCV's drawing functions do
not care about channel order, only its image I/O does, so conversion to BGR
happens solely when files are written.
"""

import argparse
import colorsys
import csv
import os
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["SIZE", "FACTORS", "draw_face", "draw_faces", "draw_labelled_faces", "face_at",
           "write_face_folder", "face_grid"]

SIZE = 96

# Supersampling factor.  At 2 the line widths snap to half output pixels and
# eyelids and outlines come out visibly heavy; 3 looks as good as 4 at about
# 25% less drawing time.
_SS = 3
# Fractional bits for OpenCV coordinates, so that sub-pixel geometry survives
# the conversion to integers instead of snapping to the supersampled grid.
_SHIFT = 4
_K = _SS * (1 << _SHIFT)
_N = SIZE * _SS
_AA = cv2.LINE_AA
_WHITE = (255.0, 255.0, 255.0)


# --------------------------------------------------------------------------
# Palettes.  Weights are relative frequencies: natural colours dominate, but
# anime colours stay common enough that a GAN sees many examples of each.

def _table(rows):
    colours = [np.asarray(c, np.float64) for c, _ in rows]
    weights = np.asarray([w for _, w in rows], np.float64)
    return colours, weights / weights.sum()


_SKIN = _table([
    ((255, 232, 214), 1.0), ((255, 222, 196), 1.2), ((250, 210, 178), 1.2),
    ((243, 196, 156), 1.0), ((232, 180, 136), 0.9), ((215, 160, 112), 0.8),
    ((192, 136, 92), 0.7), ((160, 108, 72), 0.6), ((128, 84, 56), 0.5),
    ((98, 64, 44), 0.4),
])

_HAIR = _table([
    ((34, 30, 38), 1.6),      # black
    ((74, 48, 34), 1.3),      # dark brown
    ((124, 80, 46), 1.2),     # brown
    ((168, 114, 66), 0.7),    # light brown
    ((236, 202, 118), 0.9),   # blonde
    ((246, 236, 200), 0.4),   # platinum
    ((202, 88, 42), 0.6),     # ginger
    ((138, 46, 36), 0.5),     # auburn
    ((148, 148, 156), 0.5),   # grey
    ((222, 224, 234), 0.4),   # silver
    ((64, 104, 214), 0.5),    # blue
    ((128, 192, 240), 0.3),   # light blue
    ((244, 142, 188), 0.5),   # pink
    ((78, 172, 112), 0.3),    # green
    ((146, 86, 202), 0.4),    # purple
])

_EYES = _table([
    ((122, 72, 36), 1.2), ((72, 42, 26), 1.0), ((58, 116, 222), 1.0),
    ((108, 178, 236), 0.6), ((56, 148, 80), 0.7), ((150, 122, 52), 0.5),
    ((118, 128, 140), 0.5), ((204, 40, 52), 0.5), ((142, 70, 192), 0.5),
    ((222, 160, 40), 0.4), ((232, 100, 160), 0.4), ((36, 160, 160), 0.4),
])

_HAIR_NAMES = ("black", "dark brown", "brown", "light brown", "blonde", "platinum", "ginger",
               "auburn", "grey", "silver", "blue", "light blue", "pink", "green", "purple")
_EYE_NAMES = ("brown", "dark brown", "blue", "light blue", "green", "hazel", "grey", "red",
              "purple", "amber", "pink", "teal")

_EXPRESSIONS = ("smile", "open", "neutral", "frown", "surprised", "wink", "happy")
_EXPRESSION_P = np.asarray([0.24, 0.2, 0.14, 0.1, 0.1, 0.1, 0.12])

_HAIR_STYLES = ("short", "long", "bob", "spiky", "bald", "ponytail", "buns")
_HAIR_STYLE_P = np.asarray([0.2, 0.24, 0.14, 0.1, 0.05, 0.15, 0.12])

_FACE_SHAPES = ("round", "oval", "wide")
_GLASSES = ("none", "round", "square")
# Background colours: hue in six bins centred on these.
_BACKGROUNDS = ("red", "yellow", "green", "cyan", "blue", "magenta")

# The drawer's own random factors, as class labels a classifier can learn: each
# factor's name and its classes in label order (``draw_labelled_faces`` gives the
# labels).  Labels say what the picture shows: a factor it cannot show gets a
# class of its own (a bald head has no hair colour, closed "happy" eyes no eye
# colour), and the background is labelled by the hue of its colour that shows
# most (the outer one of a radial gradient, else the first).  The background's
# layout (plain, gradient, split) is not a factor: it is a subtle difference
# behind the face that a small classifier learns only slowly.
FACTORS = {
    "face_shape": _FACE_SHAPES,
    "skin_tone": tuple("tone %d" % (k + 1) for k in range(len(_SKIN[0]))),
    "hair_colour": _HAIR_NAMES + ("none (bald)",),
    "hair_style": _HAIR_STYLES,
    "eye_colour": _EYE_NAMES + ("closed",),
    "expression": _EXPRESSIONS,
    "glasses": _GLASSES,
    "background": _BACKGROUNDS,
}


def _pick_index(rng, table):
    colours, weights = table
    return int(rng.choice(len(colours), p=weights))


def _rgb(c):
    # Plain Python: np.clip on a 3-vector costs more than the drawing call.
    r, g, b = float(c[0]), float(c[1]), float(c[2])
    return (min(255.0, max(0.0, r)), min(255.0, max(0.0, g)), min(255.0, max(0.0, b)))


def _shade(c, f):
    return _rgb(np.asarray(c, np.float64) * f)


def _mix(c1, c2, t):
    return _rgb(np.asarray(c1, np.float64) * (1 - t) + np.asarray(c2, np.float64) * t)


def _jitter(rng, c, amount):
    return _rgb(np.asarray(c, np.float64) + rng.normal(0.0, amount, 3))


def _hsv(h, s, v):
    return _rgb(np.asarray(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0)


# --------------------------------------------------------------------------
# Drawing helpers.  All geometry is given in output (96-pixel) units and
# converted here, so the face code reads in the size it will be seen at.

def _pt(x, y):
    return (int(round(x * _K)), int(round(y * _K)))


def _len(v):
    return max(1, int(round(v * _K)))


def _th(t):
    # cv2 thickness has no fractional bits, so it is rounded at supersampled
    # resolution, where a step is a quarter of an output pixel.
    return max(1, int(round(t * _SS)))


def _poly(pts):
    return np.round(np.asarray(pts, np.float64) * _K).astype(np.int32)


def _ellipse(img, c, axes, color, thick=-1.0, angle=0.0, a0=0.0, a1=360.0):
    cv2.ellipse(img, _pt(*c), (_len(axes[0]), _len(axes[1])), angle, a0, a1,
                color, -1 if thick < 0 else _th(thick), _AA, _SHIFT)


def _circle(img, c, r, color, thick=-1.0):
    cv2.circle(img, _pt(*c), _len(r), color,
               -1 if thick < 0 else _th(thick), _AA, _SHIFT)


def _fill(img, pts, color):
    cv2.fillPoly(img, [_poly(pts)], color, _AA, _SHIFT)


def _lines(img, pts, color, thick, closed=False):
    cv2.polylines(img, [_poly(pts)], closed, color, _th(thick), _AA, _SHIFT)


def _blend(img, overlay, alpha):
    cv2.addWeighted(overlay, alpha, img, 1.0 - alpha, 0.0, dst=img)


# --------------------------------------------------------------------------
# The random factors of one face.
#
# Every random number a face needs is drawn first, into a frozen ``_Face``, and
# only then is anything painted.  The order of the draws defines the data set
# (face ``i`` of seed ``s`` is whatever the generator ``[s, i]`` yields, in this
# order), so the samplers below must keep drawing exactly what they draw, in
# the order ``_sample_face`` calls them.  Each sampler returns a dict of fields
# and names, as keyword-only parameters, the fields drawn before it that it needs.

@dataclass(frozen=True)
class _Hair:
    """Outer hair contour shared by the back and front hair layers.

    Both layers take points from the same function of the angle, so their
    outer edges coincide exactly and the two polygons read as one mass.
    """

    cx: float
    cy: float
    A: float
    B: float
    spikes: int
    spike_len: float
    phase: float

    def points(self, t0, t1, step=np.pi / 90):
        t = np.arange(t0, t1 + 1e-9, step)
        f = np.ones_like(t)
        if self.spikes:
            u = (t - np.pi) / np.pi * self.spikes + self.phase
            tri = 1.0 - np.abs(2.0 * (u - np.floor(u)) - 1.0)
            # Spikes only on the upper head; they fade out towards the ears.
            top = np.clip(-np.sin(t) * 1.4 - 0.2, 0.0, 1.0)
            f = 1.0 + self.spike_len * tri * top
        x = self.cx + self.A * np.cos(t) * f
        y = self.cy + self.B * np.sin(t) * f
        return np.stack([x, y], 1)


@dataclass(frozen=True, eq=False)
class _Face:
    """Everything drawn at random for one face, and the few colours derived from it.

    Lengths are in output (96-pixel) units, colours RGB float triples.  The
    painters only read it, so a face is fixed once its factors are drawn.
    """

    # Background: its colours, layout (0 plain, 1 vertical gradient, 2
    # diagonal split, 3 horizontal split, 4 radial gradient), a split's edge
    # height at the left and right (None without a split), and its label.
    bg_first: tuple
    bg_second: tuple
    bg_kind: int
    bg_edge: tuple | None
    background: int
    # Head: centre, half width and height, chin sharpness, colours, style.
    cx: float
    cy: float
    shape: int
    a: float
    b: float
    chin: float
    skin_tone: int
    skin: tuple
    skin_dark: tuple
    hair_colour: int
    hair: tuple
    hair_dark: tuple
    style: str
    expression: str
    # Eyes: height, distance from the centre line, half width and height.
    ey: float
    dx: float
    ew: float
    eh: float
    eye_top: float
    eye_colour: int
    iris: tuple
    lash: tuple
    look: float
    pupil: float
    wing: bool
    wink_side: int
    # Hair: the crown's centre and half axes, the outer contour, and the
    # hairline across the forehead with its bangs, parting and side locks.
    hx: float
    hy: float
    A: float
    B: float
    hair_shape: _Hair
    yh: float
    yt: float
    p_edge: float
    sweep: float
    n_bangs: int
    bang_len: float
    bang_var: np.ndarray
    bang_phase: float
    show_brows: bool
    part_h: float
    part_x: float
    side_locks: bool
    lock_len: float
    # Mouth, nose and brows.
    mx: float
    my: float
    mw: float
    nose_kind: int
    brow_len: float
    brow_th: float
    brow_y: float
    tilt: float
    arch: float
    # Cheeks, glasses, hair accessories, clothes, ponytails, buns, long hair.
    blush: bool
    blush_a: float
    blush_lines: bool
    freckles: bool
    glasses: int
    glasses_col: tuple
    bow: bool
    bow_col: tuple
    bow_side: float
    clip: bool
    cloth: tuple
    tail_sides: tuple
    tie_col: tuple
    buns_two: bool
    long_end: float
    long_flare: float
    # Shoulders, and how far the back hair drops (None: no back hair layer).
    ccy: float
    shoulders: tuple
    drop: float | None


# Styles whose back hair is the crown contour (long hair has its own shape,
# bald heads none).
_CROWN_BACK_HAIR = ("short", "bob", "spiky", "ponytail", "buns")


def _sample_background(rng, **_):
    """Background colours and layout; the label is the hue that shows most."""
    hue = rng.uniform()
    c1 = _hsv(hue, rng.uniform(0.08, 0.55), rng.uniform(0.62, 1.0))
    # The second tone is a related hue so two-tone backgrounds stay calm and
    # the face remains the dominant structure in the image.
    hue2 = hue + rng.uniform(-0.25, 0.25)
    c2 = _hsv(hue2, rng.uniform(0.05, 0.6), rng.uniform(0.5, 1.0))
    kind = int(rng.choice(5, p=[0.32, 0.26, 0.14, 0.12, 0.16]))
    # A radial gradient shows its outer colour around the head; the others
    # show mostly the first.
    shown = hue2 if kind == 4 else hue
    label = int(np.floor((shown % 1.0) * len(_BACKGROUNDS) + 0.5)) % len(_BACKGROUNDS)
    edge = None
    if kind == 2:       # diagonal split
        edge = tuple(rng.uniform(-20, 116, 2))
    elif kind == 3:     # horizontal split
        y0 = rng.uniform(55, 85)
        edge = (y0, y0)
    return dict(bg_first=c1, bg_second=c2, bg_kind=kind, bg_edge=edge, background=label)


def _sample_head(rng, **_):
    """Head geometry, skin and hair colour, hair style and expression."""
    U = rng.uniform
    # Sizes are chosen so that, with hair, the head fills most of the frame
    # as in anime face crops.
    cx = 48.0 + U(-2.5, 2.5)
    cy = 52.0 + U(-2.0, 3.0)
    shape = int(rng.choice(3, p=[0.35, 0.4, 0.25]))
    if shape == 0:      # round
        a = U(29.0, 33.0)
        b = a * U(1.0, 1.08)
    elif shape == 1:    # oval
        a = U(26.0, 30.0)
        b = U(33.0, 37.0)
    else:               # wide
        a = U(32.0, 36.0)
        b = U(29.0, 32.5)
    chin = U(0.0, 0.45)
    skin_tone = _pick_index(rng, _SKIN)
    skin = _jitter(rng, _SKIN[0][skin_tone], 5.0)
    hair_colour = _pick_index(rng, _HAIR)
    hair = _jitter(rng, _HAIR[0][hair_colour], 8.0)
    style = _HAIR_STYLES[int(rng.choice(len(_HAIR_STYLES), p=_HAIR_STYLE_P))]
    expression = _EXPRESSIONS[int(rng.choice(len(_EXPRESSIONS), p=_EXPRESSION_P))]
    return dict(cx=cx, cy=cy, shape=shape, a=a, b=b, chin=chin, skin_tone=skin_tone, skin=skin,
                skin_dark=_shade(skin, 0.72), hair_colour=hair_colour, hair=hair,
                hair_dark=_shade(hair, 0.6), style=style, expression=expression)


def _sample_eyes(rng, *, cy, a, b, expression, hair_dark, **_):
    """Eye placement, size and colour, gaze, and which eye a wink closes."""
    U = rng.uniform
    ey = cy + b * U(0.02, 0.18)
    dx = a * U(0.36, 0.46)
    ew = a * U(0.15, 0.23)
    eh = ew * U(1.0, 1.45)
    if expression == "surprised":
        ew, eh = ew * 1.1, eh * 1.12
    eye_colour = _pick_index(rng, _EYES)
    iris = _jitter(rng, _EYES[0][eye_colour], 10.0)
    lash = _mix((30.0, 22.0, 26.0), hair_dark, U(0.0, 0.35))
    look = U(-1.0, 1.0)
    pupil = 0.6 if expression == "surprised" else U(0.8, 1.15)
    wing = U() < 0.5
    wink_side = -1 if U() < 0.5 else 1
    return dict(ey=ey, dx=dx, ew=ew, eh=eh, eye_top=ey - eh, eye_colour=eye_colour, iris=iris,
                lash=lash, look=look, pupil=pupil, wing=wing, wink_side=wink_side)


def _sample_hair(rng, *, cx, cy, a, b, style, **_):
    """The hair's outer contour and the hairline with its bangs, parting and side locks."""
    U = rng.uniform
    hx, hy = cx, cy - 0.05 * b
    A = a * U(1.04, 1.16) + 2.0
    B = b * 0.95 + U(3.0, 8.0)
    spiky = style == "spiky"
    hair_shape = _Hair(hx, hy, A, B, int(rng.integers(6, 11)) if spiky else 0,
                       U(0.12, 0.22), U())
    yh = cy - b * U(0.42, 0.62)              # hairline at the centre
    yt = cy + b * U(-0.12, 0.12)             # where hair meets the temples
    p_edge = U(2.5, 4.0)
    sweep = U(-4.0, 4.0)
    n_bangs = int(rng.integers(3, 8))
    bang_len = U(3.0, 12.0)
    if style == "short" and U() < 0.6:
        bang_len = 0.0                       # a smooth, unbroken hairline
    bang_var = U(0.5, 1.0, 8)
    bang_phase = U()
    # Some bangs stop above the brows, so brows show on part of the data set.
    show_brows = U() < 0.5
    # A parting lifts the hairline at one point and reveals the forehead.
    part_h = U(5.0, 11.0) if (style in ("long", "bob", "ponytail") and U() < 0.3) else 0.0
    part_x = U(-0.35, 0.35)
    side_locks = style in ("long", "bob") or (style == "ponytail" and U() < 0.5)
    lock_len = U(0.4, 0.9)
    return dict(hx=hx, hy=hy, A=A, B=B, hair_shape=hair_shape, yh=yh, yt=yt, p_edge=p_edge,
                sweep=sweep, n_bangs=n_bangs, bang_len=bang_len, bang_var=bang_var,
                bang_phase=bang_phase, show_brows=show_brows, part_h=part_h, part_x=part_x,
                side_locks=side_locks, lock_len=lock_len)


def _sample_mouth_nose_brows(rng, *, cx, cy, a, b, ew, eye_top, expression, **_):
    """Mouth position and width, nose kind, and brows, whose tilt shows the expression."""
    U = rng.uniform
    mx = cx + U(-1.0, 1.0)
    my = cy + b * U(0.5, 0.6)
    mw = a * U(0.12, 0.22)
    nose_kind = int(rng.integers(0, 4))
    brow_len = ew * U(0.85, 1.3)
    brow_th = U(0.9, 1.8)
    brow_y = eye_top - U(2.5, 5.0) - (2.0 if expression == "surprised" else 0.0)
    # Brow tilt encodes the expression: angry inner ends down, surprised up.
    tilt, arch = {"frown": (2.2, 0.3), "surprised": (-1.2, 1.6),
                  "neutral": (0.0, 0.6)}.get(expression, (-0.4, 1.0))
    return dict(mx=mx, my=my, mw=mw, nose_kind=nose_kind, brow_len=brow_len, brow_th=brow_th,
                brow_y=brow_y, tilt=tilt, arch=arch)


def _sample_extras(rng, **_):
    """Blush or freckles, glasses, bow or clip, clothes, and the ponytail, bun and long-hair details."""
    U = rng.uniform
    blush = U() < 0.4
    blush_a = U(0.3, 0.55)
    blush_lines = U() < 0.4
    freckles = U() < 0.08 and not blush
    glasses = int(rng.choice(3, p=[0.9, 0.05, 0.05]))
    glasses_col = _rgb((30, 30, 36)) if U() < 0.6 else _hsv(U(), 0.6, 0.6)
    bow = U() < 0.1
    bow_col = _hsv(U(), U(0.5, 0.9), U(0.7, 1.0))
    bow_side = -1.0 if U() < 0.5 else 1.0
    clip = U() < 0.08 and not bow
    cloth = _hsv(U(), U(0.1, 0.8), U(0.25, 0.95))
    tail_sides = ((-1,), (1,), (-1, 1))[int(rng.choice(3))]   # twin tails too
    tie_col = _hsv(U(), 0.7, 0.9)
    buns_two = U() < 0.7
    long_end = U(0.75, 1.5)
    long_flare = U(1.0, 1.3)
    return dict(blush=blush, blush_a=blush_a, blush_lines=blush_lines, freckles=freckles,
                glasses=glasses, glasses_col=glasses_col, bow=bow, bow_col=bow_col,
                bow_side=bow_side, clip=clip, cloth=cloth, tail_sides=tail_sides, tie_col=tie_col,
                buns_two=buns_two, long_end=long_end, long_flare=long_flare)


def _sample_shoulders_and_drop(rng, *, style, **_):
    """Shoulder placement and size, and how far below the ears the back hair reaches.

    These come last because the data set was first made by a drawer that drew
    them while painting; drawing them anywhere else would change every face.
    The drop is an angle past horizontal: a bob reaches the jaw, the other
    crown styles stop near the ears.
    """
    U = rng.uniform
    ccy = SIZE + U(8.0, 16.0)
    shoulders = (U(40.0, 50.0), U(15.0, 20.0))
    drop = None
    if style in _CROWN_BACK_HAIR:
        drop = U(0.7, 1.0) if style == "bob" else U(0.0, 0.35)
    return dict(ccy=ccy, shoulders=shoulders, drop=drop)


_SAMPLERS = (_sample_background, _sample_head, _sample_eyes, _sample_hair,
             _sample_mouth_nose_brows, _sample_extras, _sample_shoulders_and_drop)


def _sample_face(rng):
    """All the random factors of one face, drawn from ``rng`` in the data set's order."""
    fields = {}
    for sample in _SAMPLERS:
        fields.update(sample(rng, **fields))
    return _Face(**fields)


# --------------------------------------------------------------------------
# Painting, one function per part, called back to front on the supersampled
# canvas.  None of them draws random numbers.

def _paint_background(f):
    """A new supersampled canvas holding the background."""
    img = np.empty((_N, _N, 3), np.uint8)
    if f.bg_kind in (1, 4):
        # Gradients are computed on a tiny grid and enlarged, which is far
        # cheaper than evaluating them at the supersampled size.
        g = 24
        t = np.linspace(0.0, 1.0, g)
        if f.bg_kind == 1:
            tt = np.broadcast_to(t[:, None], (g, g))
        else:
            yy, xx = np.meshgrid(t - 0.5, t - 0.5, indexing="ij")
            tt = np.clip(np.sqrt(xx * xx + yy * yy) / 0.7, 0.0, 1.0)
        small = (np.asarray(f.bg_first)[None, None] * (1 - tt[..., None])
                 + np.asarray(f.bg_second)[None, None] * tt[..., None])
        cv2.resize(np.round(small).astype(np.uint8), (_N, _N), dst=img,
                   interpolation=cv2.INTER_LINEAR)
        return img
    # Filling through one prepared row is much faster than letting numpy
    # broadcast a 3-vector over the whole image.
    row = np.empty((_N, 3), np.uint8)
    row[:] = np.round(f.bg_first).astype(np.uint8)
    img[:] = row
    if f.bg_edge is not None:
        y0, y1 = f.bg_edge
        _fill(img, [(-2, y0), (98, y1), (98, 98), (-2, 98)], f.bg_second)
    return img


def _shoulders(img, f):
    """Shoulders first, so long hair falls over them."""
    _ellipse(img, (f.cx, f.ccy), f.shoulders, f.cloth)


def _back_hair(img, f):
    """The hair behind the head: ponytails and buns, then the crown or long hair."""
    if f.style == "long":
        _long_back_hair(img, f)
    elif f.drop is not None:
        if f.style == "ponytail":
            _ponytails(img, f)
        if f.style == "buns":
            _buns(img, f)
        back = f.hair_shape.points(np.pi - f.drop, 2 * np.pi + f.drop)
        _fill(img, back, f.hair)
        _lines(img, back, f.hair_dark, 0.7, closed=True)
        if f.style == "ponytail":
            for side in f.tail_sides:
                _circle(img, (f.hx + side * (f.A - 0.5), f.hy - f.B * 0.35), 2.4, f.tie_col)


def _ponytails(img, f):
    """One tail or twin tails beside the head."""
    for side in f.tail_sides:
        tx = f.hx + side * (f.A + 2.0)
        _ellipse(img, (tx, f.hy + f.B * 0.25), (6.5, f.B * 0.75), f.hair, angle=-side * 12.0)
        _ellipse(img, (tx, f.hy + f.B * 0.25), (6.5, f.B * 0.75), f.hair_dark,
                 thick=0.6, angle=-side * 12.0)


def _buns(img, f):
    """Two buns above the ears, or one on top."""
    sides = (-1, 1) if f.buns_two else (0,)
    for side in sides:
        bx, by = f.hx + side * f.A * 0.72, f.hy - f.B * (0.88 if side else 1.02)
        _circle(img, (bx, by), 9.5, f.hair)
        _circle(img, (bx, by), 9.5, f.hair_dark, thick=0.6)
        _ellipse(img, (bx, by), (6.0, 6.0), _mix(f.hair, _WHITE, 0.25),
                 thick=0.8, a0=200, a1=260)


def _long_back_hair(img, f):
    """Long hair: the crown, then straight sides down to a row of pointed tips."""
    hx, hy, A, B, flare = f.hx, f.hy, f.A, f.B, f.long_flare
    yb = min(SIZE + 4.0, f.cy + f.b * f.long_end)
    top = f.hair_shape.points(np.pi, 2 * np.pi)
    right = [(hx + A * 1.04, hy + B * 0.45), (hx + A * flare, yb)]
    n_tips = 7
    xs = np.linspace(hx + A * flare, hx - A * flare, 2 * n_tips + 1)
    tips = [(x, yb - (4.0 if k % 2 else 0.0)) for k, x in enumerate(xs)]
    left = [(hx - A * flare, yb), (hx - A * 1.04, hy + B * 0.45)]
    back = np.concatenate([top, right, tips, left])
    _fill(img, back, f.hair)
    _lines(img, back, f.hair_dark, 0.7, closed=True)


def _neck_and_ears(img, f):
    """Neck and ears, behind the face."""
    cx, cy, a, b = f.cx, f.cy, f.a, f.b
    nw = a * 0.32
    neck = [(cx - nw, cy + b * 0.4), (cx + nw, cy + b * 0.4),
            (cx + nw, f.ccy - 14.0), (cx - nw, f.ccy - 14.0)]
    _fill(img, neck, _shade(f.skin, 0.86))
    _ellipse(img, (cx, f.ccy - 14.0), (nw, 3.0), _shade(f.skin, 0.86))
    for side in (-1, 1):
        ex_ = cx + side * a * 0.97
        _ellipse(img, (ex_, f.ey + 2.0), (a * 0.13, b * 0.17), f.skin)
        _ellipse(img, (ex_, f.ey + 2.0), (a * 0.13, b * 0.17), f.skin_dark, thick=0.6)
        _ellipse(img, (ex_ + side * 0.8, f.ey + 2.0), (a * 0.06, b * 0.09),
                 f.skin_dark, thick=0.6, a0=90 - side * 90, a1=270 - side * 90)


def _face_outline(cx, cy, a, b, chin, n=90):
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    s, c = np.sin(t), np.cos(t)
    low = np.clip(s, 0.0, None)
    # Narrowing only the lower half turns an ellipse into a jaw with a chin;
    # the power keeps cheeks round while the chin sharpens.
    x = cx + a * c * (1.0 - chin * low ** 1.5)
    y = cy + b * s * (1.0 + 0.06 * chin * low)
    return np.stack([x, y], 1)


def _face_skin(img, f):
    """The face itself: an ellipse with a jaw, filled with skin and outlined."""
    face = _face_outline(f.cx, f.cy, f.a, f.b, f.chin)
    _fill(img, face, f.skin)
    _lines(img, face, f.skin_dark, 0.8, closed=True)


def _cheeks(img, f):
    """Blush (with optional hatching) or freckles, blended over both cheeks."""
    if not (f.blush or f.freckles):
        return
    ov = img.copy()
    for side in (-1, 1):
        bx, by = f.cx + side * f.a * 0.56, f.ey + f.eh + 4.5
        if f.blush:
            _ellipse(ov, (bx, by), (f.a * 0.16, f.a * 0.08), (255.0, 120.0, 140.0))
            if f.blush_lines:
                for k in (-1, 0, 1):
                    _lines(ov, [(bx + k * 2.6 + 1.2, by - 1.6),
                                (bx + k * 2.6 - 1.2, by + 1.6)],
                           (220.0, 70.0, 90.0), 0.6)
        else:
            for k in range(4):
                _circle(ov, (bx + (k - 1.5) * 2.4, by + (k % 2) * 1.8),
                        0.55, f.skin_dark)
    _blend(img, ov, f.blush_a if f.blush else 0.8)


def _eye(img, ex, ey, ew, eh, iris, lash, look, pupil, outer_dir, wing):
    _ellipse(img, (ex, ey), (ew, eh), _WHITE)
    iw, ih = ew * 0.8, eh * 0.86
    ix, iy = ex + look * ew * 0.14, ey + eh * 0.1
    _ellipse(img, (ix, iy), (iw, ih), _shade(iris, 0.72))
    # A lighter lower iris is the classic anime eye gradient.
    _ellipse(img, (ix, iy + ih * 0.28), (iw * 0.74, ih * 0.56),
             _mix(iris, _WHITE, 0.28))
    _ellipse(img, (ix, iy), (iw * 0.42 * pupil, ih * 0.5 * pupil),
             _shade(iris, 0.25))
    # Shadow cast by the upper lid: a darker band at the top of the eye.
    _ellipse(img, (ex, ey - eh * 0.55), (ew * 0.95, eh * 0.42),
             _mix(_shade(iris, 0.5), lash, 0.4), a0=180, a1=360)
    _circle(img, (ix - iw * 0.36, iy - ih * 0.32), iw * 0.3, _WHITE)
    _circle(img, (ix + iw * 0.38, iy + ih * 0.4), iw * 0.13, _WHITE)
    lt = max(1.2, eh * 0.2)
    _ellipse(img, (ex, ey + eh * 0.12), (ew * 1.12, eh * 1.1), lash,
             thick=lt, a0=192, a1=348)
    _ellipse(img, (ex, ey), (ew * 0.9, eh * 1.02), _mix(lash, _WHITE, 0.35),
             thick=0.6, a0=50, a1=130)
    if wing:
        # Outer-corner lash flick; ``outer_dir`` is -1 for the viewer's left.
        ang = np.deg2rad(192 if outer_dir < 0 else 348)
        x0 = ex + ew * 1.12 * np.cos(ang)
        y0 = ey + eh * 0.12 + eh * 1.1 * np.sin(ang)
        _lines(img, [(x0, y0), (x0 + outer_dir * ew * 0.35, y0 - eh * 0.3)],
               lash, lt * 0.8)


def _closed_eye(img, ex, ey, ew, eh, lash):
    # Upward arc: the "^" of a laughing or winking anime eye.
    _ellipse(img, (ex, ey + eh * 0.35), (ew * 0.95, eh * 0.6), lash,
             thick=max(1.2, eh * 0.18), a0=195, a1=345)


def _eyes(img, f):
    """Both eyes, open or closed as the expression says ("happy" both, "wink" one)."""
    for side in (-1, 1):
        ex_ = f.cx + side * f.dx
        closed = f.expression == "happy" or (f.expression == "wink" and side == f.wink_side)
        if closed:
            _closed_eye(img, ex_, f.ey, f.ew, f.eh, f.lash)
        else:
            _eye(img, ex_, f.ey, f.ew, f.eh, f.iris, f.lash, f.look, f.pupil, side, f.wing)


def _brows(img, f):
    """Brows in a darkened hair colour (a bald head's in shaded skin); bangs may cover them."""
    brow_col = _mix(f.hair_dark, (40.0, 30.0, 30.0), 0.3) if f.style != "bald" else \
        _shade(f.skin, 0.55)
    for side in (-1, 1):
        ex_ = f.cx + side * f.dx
        _lines(img, [(ex_ + side * f.brow_len, f.brow_y + 0.6),
                     (ex_ + side * f.brow_len * 0.1, f.brow_y - f.arch),
                     (ex_ - side * f.brow_len * 0.8, f.brow_y + f.tilt)],
               brow_col, f.brow_th)


def _nose(img, f):
    """A tick, a dot, a small "v", or (kind 3) no nose, halfway between eyes and mouth."""
    cx, skin_dark = f.cx, f.skin_dark
    ny = f.ey + (f.my - f.ey) * 0.5
    if f.nose_kind == 0:
        _lines(img, [(cx + 0.4, ny - 1.6), (cx - 0.5, ny + 0.8)], skin_dark, 0.8)
    elif f.nose_kind == 1:
        _circle(img, (cx, ny), 0.7, skin_dark)
    elif f.nose_kind == 2:
        _lines(img, [(cx - 1.0, ny), (cx, ny + 1.0), (cx + 1.0, ny)], skin_dark, 0.7)


def _mouth(img, f):
    """The mouth the expression calls for."""
    kind, mx, my, mw = f.expression, f.mx, f.my, f.mw
    line = _mix(f.skin_dark, (90.0, 30.0, 40.0), 0.5)
    inside = (128.0, 38.0, 52.0)
    tongue = (232.0, 112.0, 120.0)
    if kind in ("smile", "wink"):
        _ellipse(img, (mx, my - mw * 0.35), (mw, mw * 0.45), line, thick=1.0,
                 a0=20, a1=160)
    elif kind in ("open", "happy"):
        _ellipse(img, (mx, my - mw * 0.1), (mw, mw * 0.85), inside, a0=0, a1=180)
        _ellipse(img, (mx, my + mw * 0.45), (mw * 0.55, mw * 0.3), tongue)
        # Re-cut the top so the tongue does not poke above the lip line.
        _fill(img, [(mx - mw * 1.1, my - mw * 0.1), (mx + mw * 1.1, my - mw * 0.1),
                    (mx + mw * 1.1, my - mw * 0.6), (mx - mw * 1.1, my - mw * 0.6)],
              f.skin)
        _lines(img, [(mx - mw, my - mw * 0.1), (mx + mw, my - mw * 0.1)], line, 0.8)
    elif kind == "neutral":
        _lines(img, [(mx - mw * 0.6, my), (mx + mw * 0.6, my + 0.2)], line, 1.0)
    elif kind == "frown":
        _ellipse(img, (mx, my + mw * 0.45), (mw * 0.8, mw * 0.4), line, thick=1.0,
                 a0=200, a1=340)
    else:  # surprised
        _ellipse(img, (mx, my), (mw * 0.42, mw * 0.55), inside)
        _ellipse(img, (mx, my), (mw * 0.42, mw * 0.55), line, thick=0.7)


def _glasses(img, f):
    """Round or square frames around the eyes, joined by a bridge."""
    if not f.glasses:
        return
    cx, ey, dx = f.cx, f.ey, f.dx
    r = max(f.ew, f.eh) * 1.3
    for side in (-1, 1):
        gx = cx + side * dx
        if f.glasses == 1:
            _circle(img, (gx, ey), r, f.glasses_col, thick=0.9)
        else:
            _lines(img, [(gx - r * 1.1, ey - r * 0.75), (gx + r * 1.1, ey - r * 0.75),
                         (gx + r * 1.1, ey + r * 0.75), (gx - r * 1.1, ey + r * 0.75)],
                   f.glasses_col, 0.9, closed=True)
    inner = dx - r * (1.0 if f.glasses == 1 else 1.1)
    _lines(img, [(cx - inner, ey - 0.5), (cx + inner, ey - 0.5)], f.glasses_col, 0.9)


def _hairline(f):
    """The front hair's lower edge, right to left: ``xs``, its heights, and the bang coordinate.

    The hairline drops towards the temples and carries the bangs; a bang runs
    between consecutive integers of the bang coordinate.
    """
    cx, a = f.cx, f.a
    xs = np.linspace(cx + a * 0.99, cx - a * 0.99, 121)
    rel = (xs - cx) / a
    base = f.yh + (f.yt - f.yh) * np.abs(rel) ** f.p_edge + f.sweep * rel
    if f.part_h:
        base = base - f.part_h * np.clip(1.0 - np.abs(rel - f.part_x) / 0.45, 0.0, 1.0)
    u = (xs - cx) / (2 * a * 0.9) * f.n_bangs + f.bang_phase
    which = np.floor(u).astype(int) % len(f.bang_var)
    frac = u - np.floor(u)
    tri = 1.0 - np.sqrt(np.abs(2.0 * frac - 1.0))
    window = np.clip(1.0 - np.abs(rel) ** 4, 0.0, 1.0)
    y = base + f.bang_len * f.bang_var[which] * tri * window
    # Bangs stop just above the eyes so the eyes always stay visible.
    near_eyes = np.abs(np.abs(xs - cx) - f.dx) < f.ew * 1.3
    limit = f.brow_y - f.arch - f.brow_th - 1.0 if f.show_brows else f.eye_top - 1.2
    y = np.where(near_eyes, np.minimum(y, limit), y)
    y = np.minimum(y, f.cy + f.b * 0.6)
    return xs, y, u


def _hairline_y(xs, y, x):
    """The hairline's height at ``x``."""
    return float(np.interp(x, xs[::-1], y[::-1]))


def _front_hair(img, f):
    """Front hair over the face, then its strands, locks, sheen and accessories.

    The outer contour runs over the top and the hairline back across the
    forehead.  A bald head gets a highlight on the scalp instead.
    """
    if f.style == "bald":
        _bald_scalp(img, f)
        return
    xs, y, u = _hairline(f)
    s0 = np.clip((f.yt - f.hy) / f.B, -0.9, 0.9)
    beta = float(np.arcsin(s0))
    outer = f.hair_shape.points(np.pi - beta, 2 * np.pi + beta)
    front = np.concatenate([outer, np.stack([xs, y], 1)])
    _fill(img, front, f.hair)
    _lines(img, front, f.hair_dark, 0.7, closed=True)
    _strands(img, f, xs, y, u)
    if f.side_locks:
        _side_locks(img, f, outer, xs, y)
    _sheen(img, f)
    if f.bow:
        _bow(img, f.hx + f.bow_side * f.A * 0.6, f.hy - f.B * 0.78, 6.0, f.bow_col)
    if f.clip:
        _clip(img, f, xs, y)


def _strands(img, f, xs, y, u):
    """Strand lines from the gaps between bangs towards the crown."""
    gaps = np.nonzero(np.diff(np.floor(u)) != 0)[0]
    for gi in gaps:
        gx, gy = xs[gi], y[gi]
        if abs(gx - f.cx) > f.a * 0.8:
            continue
        _lines(img, [(gx, gy), (gx + (f.hx - gx) * 0.15, gy - (gy - (f.hy - f.B)) * 0.35)],
               f.hair_dark, 0.6)


def _side_locks(img, f, outer, xs, y):
    """Locks beside the cheeks, drawn over the front hair without a top edge.

    They start just inside the front hair, so they read as part of the same
    mass; the outer edge starts where the front hair's outline ends, so the
    silhouette runs on without a step at the temple.
    """
    cx, cy, a, b = f.cx, f.cy, f.a, f.b
    for side in (-1, 1):
        x_out, x_in = cx + side * a * 1.02, cx + side * a * 0.74
        tip_y = min(cy + b * f.lock_len, SIZE - 2.0)
        top_out = outer[0] if side < 0 else outer[-1]
        lock_pts = [(top_out[0] - side * 0.3, f.yt - 1.5),
                    (x_out + side * 0.5, cy + b * 0.3),
                    (cx + side * a * 0.9, tip_y),
                    (x_in + side * 1.5, cy + b * 0.15),
                    (x_in, _hairline_y(xs, y, x_in) - 1.5)]
        _fill(img, lock_pts, f.hair)
        _lines(img, lock_pts, f.hair_dark, 0.6)


def _sheen(img, f):
    """Anime hair sheen: a light band across the crown."""
    sheen = _mix(f.hair, _WHITE, 0.35)
    _ellipse(img, (f.hx, f.hy), (f.A * 0.78, f.B * 0.9), sheen, thick=1.6, a0=215, a1=255)
    _ellipse(img, (f.hx, f.hy), (f.A * 0.78, f.B * 0.9), sheen, thick=1.6, a0=265, a1=290)


def _bow(img, x, y, s, color):
    dark = _shade(color, 0.7)
    _fill(img, [(x, y), (x - s, y - s * 0.7), (x - s, y + s * 0.7)], color)
    _fill(img, [(x, y), (x + s, y - s * 0.7), (x + s, y + s * 0.7)], color)
    _lines(img, [(x, y), (x - s, y - s * 0.7), (x - s, y + s * 0.7)], dark, 0.6, True)
    _lines(img, [(x, y), (x + s, y - s * 0.7), (x + s, y + s * 0.7)], dark, 0.6, True)
    _circle(img, (x, y), s * 0.3, dark)


def _clip(img, f, xs, y):
    """A hair clip just above the hairline, on the side a bow would sit."""
    x0 = f.cx + f.bow_side * f.a * 0.45
    y0 = _hairline_y(xs, y, x0) - 4.5
    _lines(img, [(x0 - 3.0, y0 + 1.0), (x0 + 3.0, y0 - 1.0)], f.bow_col, 1.6)
    _lines(img, [(x0 - 2.0, y0 + 0.4), (x0 + 2.0, y0 - 0.9)],
           _mix(f.bow_col, _WHITE, 0.5), 0.5)


def _bald_scalp(img, f):
    """Bald: a highlight on the scalp keeps the head from reading as a disc."""
    _ellipse(img, (f.cx - f.a * 0.3, f.cy - f.b * 0.75), (f.a * 0.22, f.b * 0.1),
             _mix(f.skin, _WHITE, 0.4), angle=-20.0)


# --------------------------------------------------------------------------
# The face.

# The painters in the order they paint, back to front.
_PAINTERS = (_shoulders, _back_hair, _neck_and_ears, _face_skin, _cheeks, _eyes, _brows,
             _nose, _mouth, _glasses, _front_hair)


def _labels(f):
    """The face's class indices, keyed like ``FACTORS``: what the picture shows."""
    return {
        "face_shape": f.shape,
        "skin_tone": f.skin_tone,
        "hair_colour": len(_HAIR_NAMES) if f.style == "bald" else f.hair_colour,
        "hair_style": _HAIR_STYLES.index(f.style),
        "eye_colour": len(_EYE_NAMES) if f.expression == "happy" else f.eye_colour,
        "expression": _EXPRESSIONS.index(f.expression),
        "glasses": f.glasses,
        "background": f.background,
    }


def _render(rng):
    """Draw one face at supersampled resolution: its factors first, then each part.

    Returns RGB uint8 ``[_N, _N, 3]`` and the face's labels, a dict of class
    indices keyed like ``FACTORS``.
    """
    f = _sample_face(rng)
    img = _paint_background(f)
    for paint in _PAINTERS:
        paint(img, f)
    return img, _labels(f)


def draw_face(rng):
    """Draw one cartoon face with ``rng`` (a ``numpy.random.Generator``).

    Returns an RGB ``uint8`` array of shape ``[96, 96, 3]``.
    """
    return cv2.resize(_render(rng)[0], (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def draw_faces(n, seed=0, size=SIZE):
    """Draw ``n`` faces; face ``i`` depends only on ``(seed, i)``.

    Returns RGB ``uint8`` ``[n, size, size, 3]``.  Because each face has its
    own generator, the first ``k`` faces are identical whatever ``n`` is, so a
    data set can be grown without changing the faces already in it.
    """
    return draw_labelled_faces(n, seed, size)[0]


def draw_labelled_faces(n, seed=0, size=SIZE, start=0):
    """Faces ``start`` .. ``start + n - 1`` of ``seed``, with the factors each was drawn from.

    Returns the faces, exactly those of :func:`draw_faces`, and a dict keyed like
    ``FACTORS`` of ``int64 [n]`` class indices, so a classifier can be trained to
    read the factors off the pictures.
    """
    out = np.empty((int(n), size, size, 3), np.uint8)
    labels = {name: np.empty(int(n), np.int64) for name in FACTORS}
    for k in range(int(n)):
        big, face_labels = _render(np.random.default_rng([int(seed), int(start) + k]))
        out[k] = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
        for name, value in face_labels.items():
            labels[name][k] = value
    return out, labels


def write_face_folder(directory, n, seed=0, fmt="png", csv_name="face_data.csv"):
    """Write ``n`` faces as image files plus the CSV listing them.

    Mirrors the original project's ``face_data.csv``: a header row ``path``,
    then one image path per row in the first column, relative to the CSV's
    folder.  Images are written beside the CSV as ``face_00000.<fmt>``.
    Returns the path of the CSV.
    """
    fmt = fmt.lstrip(".").lower()
    os.makedirs(directory, exist_ok=True)
    width = max(5, len(str(max(int(n) - 1, 0))))
    names = []
    for i in range(int(n)):
        face = face_at(i, seed)
        name = "face_%0*d.%s" % (width, i, fmt)
        path = os.path.join(directory, name)
        # cv2.imwrite expects BGR; the faces are RGB.
        if not cv2.imwrite(path, cv2.cvtColor(face, cv2.COLOR_RGB2BGR)):
            raise IOError("could not write %s" % path)
        names.append(name)
    csv_path = os.path.join(directory, csv_name)
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path"])
        for name in names:
            w.writerow([name])
    return csv_path


def face_at(i, seed=0):
    """Face ``i`` of ``seed`` alone, identical to ``draw_faces(i + 1, seed)[i]``."""
    return draw_face(np.random.default_rng([int(seed), int(i)]))


def face_grid(faces, cols=8, pad=2, pad_value=255):
    """Tile ``[n, h, w, 3]`` faces into one image for previews."""
    faces = np.asarray(faces)
    n, h, w = faces.shape[:3]
    rows = (n + cols - 1) // cols
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), pad_value,
                   np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y:y + h, x:x + w] = faces[k]
    return grid


def _main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m genface.cartoon",
        description="Preview the procedural cartoon faces as a grid image.")
    ap.add_argument("--n", type=int, default=64, help="number of faces")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--scale", type=int, default=1,
                    help="enlarge the grid by this factor (nearest neighbour)")
    ap.add_argument("--out", default="preview.png")
    args = ap.parse_args(argv)
    grid = face_grid(draw_faces(args.n, args.seed), cols=args.cols)
    if args.scale > 1:
        grid = cv2.resize(grid, None, fx=args.scale, fy=args.scale,
                          interpolation=cv2.INTER_NEAREST)
    if not cv2.imwrite(args.out, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
        raise SystemExit("could not write %s" % args.out)
    print(args.out)


if __name__ == "__main__":
    _main()
