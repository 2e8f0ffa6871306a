"""Drawing the overlay on video frames. Renderers only draw: every number arrives in ``FrameOverlay``.

``Annotator(style).annotate(frame_bgr, overlay) -> frame_bgr`` draws, for one frame:

- the legs' skeleton (hips, knees, ankles, heels, toe tips, plus the trunk outline);
- each foot's axis (heel -> toe tip) as an arrow on the floor, and each knee's travel direction as an
  arrow from the heel; the two arrows coincide when the knee travels over the toes;
- per-leg readouts (foot rotation, leg rotation, knee flexion) next to each knee;
- the plié phase and time in a banner;
- a label above the head (class videos: "dancer 2");
- red on a leg whose knee falls inside the toes in this frame.

Coordinates are pixels of the upright frame (x right, y down), NaN where unknown (not drawn).
Sides follow ``landmarks.SIDES``: index 0 = the dancer's left (the image's right when she faces the camera).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .. import landmarks as lm

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class AnnotationStyle:
    """Colours (BGR), sizes relative to the frame height, and fonts of the overlay."""

    leg_colors: tuple[BGR, BGR] = ((235, 160, 40), (60, 200, 255))
    """Dancer's left leg (blue), right leg (amber)."""
    trunk_color: BGR = (200, 200, 200)
    foot_arrow_color: BGR = (255, 255, 255)
    knee_arrow_color: BGR = (80, 230, 80)
    warn_color: BGR = (40, 40, 235)
    text_color: BGR = (255, 255, 255)
    panel_color: BGR = (20, 20, 20)
    panel_alpha: float = 0.6
    line_frac: float = 0.005
    """Line thickness as a fraction of the frame height (at least 1 px)."""
    font_frac: float = 0.0008
    """OpenCV font scale per pixel of the frame's smaller side (times 1.5 for portrait frames)."""
    joint_radius_frac: float = 0.006


@dataclass(frozen=True)
class FrameOverlay:
    """Everything drawn on one frame (pixels; NaN = not drawn)."""

    time_s: float
    points_px: NDArray[np.float64]
    """(33, 2) image landmarks (smoothed), NaN where unknown."""
    foot_arrows_px: NDArray[np.float64] = field(default_factory=lambda: np.full((2, 2, 2), np.nan))
    """(2 sides, start/end, xy): heel -> toe tip."""
    knee_arrows_px: NDArray[np.float64] = field(default_factory=lambda: np.full((2, 2, 2), np.nan))
    """(2 sides, start/end, xy): from the heel along the knee's travel direction."""
    readouts: tuple[Sequence[str], Sequence[str]] = ((), ())
    """Text lines per side, e.g. ("foot 68°", "leg 52°", "knee 40°")."""
    knee_inside: tuple[bool, bool] = (False, False)
    phase: str = ""
    banner: str = ""
    """Extra text in the banner (e.g. the plié number)."""
    label: str = ""
    """Drawn above the person's head (class videos: "dancer 2"); empty = none."""
    show_banner: bool = True
    """False for the second and later dancers of a frame (one banner per frame)."""


def _pt(p: NDArray[np.float64]) -> tuple[int, int] | None:
    if p is None or not np.all(np.isfinite(p)):
        return None
    return int(round(float(p[0]))), int(round(float(p[1])))


class Annotator:
    """Draws a ``FrameOverlay`` onto a BGR frame (a copy is returned; the input is left untouched)."""

    def __init__(self, style: AnnotationStyle | None = None) -> None:
        self.style = style or AnnotationStyle()

    def annotate(self, frame: NDArray[np.uint8], data: FrameOverlay) -> NDArray[np.uint8]:
        import cv2

        s = self.style
        out = np.array(frame, dtype=np.uint8, copy=True)
        h = out.shape[0]
        thick = max(1, int(round(s.line_frac * h)))
        radius = max(2, int(round(s.joint_radius_frac * h)))
        font = cv2.FONT_HERSHEY_SIMPLEX
        fscale = max(0.35, s.font_frac * min(h, 1.5 * out.shape[1], 1.5 * h))
        fthick = max(1, int(round(fscale * 1.6)))
        P = np.asarray(data.points_px, dtype=float)

        # skeleton: trunk first, then each leg in its colour (red when the knee falls inside the toes)
        for a, b in lm.LEG_CONNECTIONS:
            side = self._side_of(a, b)
            if side is None:
                color = s.trunk_color
            else:
                color = s.warn_color if data.knee_inside[side] else s.leg_colors[side]
            pa, pb = _pt(P[a]), _pt(P[b])
            if pa and pb:
                cv2.line(out, pa, pb, color, thick + (1 if side is not None else 0), cv2.LINE_AA)
        for side in range(2):
            color = s.warn_color if data.knee_inside[side] else s.leg_colors[side]
            for idx in lm.LEG_INDEX[side]:
                p = _pt(P[idx])
                if p:
                    cv2.circle(out, p, radius, color, -1, cv2.LINE_AA)
                    cv2.circle(out, p, radius, (0, 0, 0), 1, cv2.LINE_AA)

        # arrows on the floor: foot axis (white) and knee travel direction (green / red)
        for side in range(2):
            fa = np.asarray(data.foot_arrows_px, dtype=float)[side]
            ka = np.asarray(data.knee_arrows_px, dtype=float)[side]
            p0, p1 = _pt(fa[0]), _pt(fa[1])
            if p0 and p1 and p0 != p1:
                cv2.arrowedLine(out, p0, p1, s.foot_arrow_color, thick + 1, cv2.LINE_AA, tipLength=0.25)
            k0, k1 = _pt(ka[0]), _pt(ka[1])
            if k0 and k1 and k0 != k1:
                color = s.warn_color if data.knee_inside[side] else s.knee_arrow_color
                cv2.arrowedLine(out, k0, k1, color, thick + 1, cv2.LINE_AA, tipLength=0.25)
            if data.knee_inside[side]:
                k = _pt(P[lm.LEG_INDEX[side][lm.KNEE]])
                if k:
                    cv2.circle(out, k, radius * 3, s.warn_color, thick + 1, cv2.LINE_AA)

        # readouts next to each knee, on a translucent panel, on the outer side of the leg
        for side in range(2):
            lines = [str(x) for x in data.readouts[side]]
            if data.knee_inside[side]:
                lines = [*lines, "knee inside toes"]
            knee = P[lm.LEG_INDEX[side][lm.KNEE]]
            if not lines or not np.all(np.isfinite(knee)):
                continue
            hip_mid = np.nanmean(P[[lm.LEFT_HIP, lm.RIGHT_HIP]], axis=0)
            outward = 1.0 if (np.isfinite(hip_mid[0]) and knee[0] >= hip_mid[0]) else -1.0
            sizes = [cv2.getTextSize(t, font, fscale, fthick)[0] for t in lines]
            tw = max(w for w, _ in sizes)
            lh = int(max(hh for _, hh in sizes) * 1.6)
            x = int(knee[0] + outward * 3 * radius) if outward > 0 else int(knee[0] - 3 * radius - tw)
            x = int(np.clip(x, 2, max(2, out.shape[1] - tw - 4)))
            y = int(np.clip(knee[1] - lh * len(lines) / 2, 2, max(2, h - lh * len(lines) - 4)))
            self._panel(out, x - 4, y - 2, tw + 8, lh * len(lines) + 6)
            color = s.warn_color if data.knee_inside[side] else s.leg_colors[side]
            cv2.rectangle(out, (x - 4, y - 2), (x - 1, y + lh * len(lines) + 4), color, -1)
            for i, t in enumerate(lines):
                cv2.putText(out, t, (x + 2, y + lh * (i + 1) - lh // 4), font, fscale, s.text_color, fthick, cv2.LINE_AA)

        # label above the head (class videos)
        if data.label and np.isfinite(P).any():
            top = np.nanmin(P[:, 1])
            cx = float(np.nanmean(P[[lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER], 0])) \
                if np.isfinite(P[[lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER], 0]).any() \
                else float(np.nanmean(P[:, 0]))
            (lw, lh), _ = cv2.getTextSize(data.label, font, fscale * 1.1, fthick)
            x = int(np.clip(cx - lw / 2, 2, max(2, out.shape[1] - lw - 6)))
            y = int(np.clip(top - 3 * radius - lh, lh + 24, max(lh + 24, h - 8)))
            self._panel(out, x - 5, y - lh - 6, lw + 10, lh + 12)
            cv2.putText(out, data.label, (x, y), font, fscale * 1.1, s.text_color, fthick, cv2.LINE_AA)

        # banner: time, phase, extra
        if not data.show_banner:
            return out
        text = "  ".join(t for t in (f"{data.time_s:6.2f} s", data.phase, data.banner) if t)
        (tw, th), _ = cv2.getTextSize(text, font, fscale * 1.1, fthick)
        self._panel(out, 0, 0, min(out.shape[1], tw + 16), th + 16)
        cv2.putText(out, text, (8, th + 8), font, fscale * 1.1, s.text_color, fthick, cv2.LINE_AA)
        return out

    @staticmethod
    def _side_of(a: int, b: int) -> int | None:
        for side in range(2):
            legs = set(int(i) for i in lm.LEG_INDEX[side])
            if a in legs and b in legs and not {a, b} <= {lm.LEFT_HIP, lm.RIGHT_HIP}:
                return side
        return None

    def _panel(self, img: NDArray[np.uint8], x: int, y: int, w: int, h: int) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(img.shape[1], x + w), min(img.shape[0], y + h)
        if x1 <= x0 or y1 <= y0:
            return
        roi = img[y0:y1, x0:x1].astype(np.float32)
        roi = roi * (1 - self.style.panel_alpha) + np.array(self.style.panel_color, np.float32) * self.style.panel_alpha
        img[y0:y1, x0:x1] = roi.astype(np.uint8)
