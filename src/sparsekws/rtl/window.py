"""Verilog of the sliding-window units of a stitched network: the convolution's window generator
(FINN's ``ConvolutionInputGenerator``) and the max-pool (FINN's depthwise window generator and
``Pool`` in one unit).

Both take a feature map ``H x W x C`` channels last, ``N`` memory words of ``G`` channels per input
beat, into two frame banks (``2 x H x W x C/G`` words): frame ``f`` is written into bank ``f mod 2``
while frame ``f - 1`` is read from the other, so loading and emitting overlap; a window is emitted
as soon as its last pixel is written (not a frame later), and the writer waits only while the
reader still needs the bank it would overwrite. Steady state: ``max(H*W*C/(N*G), OH*OW*beats)``
cycles per frame (``cycles``).

- ``conv_window``: per output position, the ``K x K x C`` window in FINN's order (kernel row,
  kernel column, channel), ``L`` values per output beat, ``L`` a multiple of ``G`` dividing the
  window: ``L / G`` words read per beat (e.g. the first convolution's whole 5 x 5 window of one
  channel in one beat, ``G = 1``).
- ``max_pool``: per output position and channel group, the lane-wise maximum of the ``K x K``
  words of the pool window (stride ``S``), ``G`` values per output beat.

No padding: ``OH = (H - K) / S + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sparsekws.rtl.text import Text, zext
from sparsekws.units.bits import clog2


@dataclass(frozen=True)
class WindowShape:
    """A window unit over ``height x width x channels`` maps: ``kernel``, ``stride``; ``group``
    values per memory word, ``in_words`` words per input beat, ``lanes`` values per output beat;
    ``bits`` per value."""

    height: int
    width: int
    channels: int
    kernel: int
    stride: int
    group: int
    lanes: int
    bits: int
    signed: bool = False
    in_words: int = 1

    @property
    def out_height(self) -> int:
        return (self.height - self.kernel) // self.stride + 1

    @property
    def out_width(self) -> int:
        return (self.width - self.kernel) // self.stride + 1

    @property
    def words_per_pixel(self) -> int:
        return self.channels // self.group

    @property
    def frame_words(self) -> int:
        return self.height * self.width * self.words_per_pixel

    def check(self) -> None:
        if self.channels % self.group or self.words_per_pixel % self.in_words:
            raise ValueError(f"window unit: {self.in_words} words of {self.group} values per input beat must divide "
                             f"{self.channels} channels")
        for size in (self.height, self.width):
            if (size - self.kernel) % self.stride:
                raise ValueError(f"window unit: kernel {self.kernel} stride {self.stride} does not tile {size} "
                                 "without padding")


def conv_reads(shape: WindowShape) -> list[list[int]]:
    """Per output beat of a position, the word offsets (from the window's top-left word) it reads."""
    shape.check()
    per_beat = shape.lanes // shape.group
    if shape.lanes % shape.group or (shape.kernel ** 2 * shape.words_per_pixel) % per_beat:
        raise ValueError(f"conv window: {shape.lanes} values per output beat must be a multiple of the "
                         f"{shape.group} values per word and divide the {shape.kernel ** 2 * shape.channels} "
                         "values of a window")
    words = [(ky * shape.width + kx) * shape.words_per_pixel + cf
             for ky in range(shape.kernel) for kx in range(shape.kernel) for cf in range(shape.words_per_pixel)]
    return [words[i:i + per_beat] for i in range(0, len(words), per_beat)]


def pool_reads(shape: WindowShape) -> list[list[int]]:
    """Per output beat (channel group) of a position, the word offsets of its ``K x K`` window."""
    shape.check()
    if shape.lanes != shape.group:
        raise ValueError("max pool: values per output beat must equal values per input beat")
    return [[(ky * shape.width + kx) * shape.words_per_pixel + cf
             for ky in range(shape.kernel) for kx in range(shape.kernel)] for cf in range(shape.words_per_pixel)]


def cycles(shape: WindowShape, beats_per_position: int) -> int:
    """Steady-state cycles per frame: the longer of loading a frame and emitting its windows."""
    return max(shape.frame_words // shape.in_words, shape.out_height * shape.out_width * beats_per_position)


def conv_window(name: str, shape: WindowShape) -> str:
    """The convolution's window generator (see the module docstring)."""
    return _window_unit(name, shape, conv_reads(shape), "window")


def max_pool(name: str, shape: WindowShape) -> str:
    """The max-pool unit (see the module docstring)."""
    return _window_unit(name, shape, pool_reads(shape), "max")


def _lane_max(t: Text, name: str, words: list[str], shape: WindowShape) -> str:
    """``name`` = lane-wise maximum of ``words`` (``G`` lanes of ``bits``)."""
    b, lanes = shape.bits, []
    cast = "$signed" if shape.signed else ""
    for lane in range(shape.group):
        best = f"{words[0]}[{lane * b} +: {b}]"
        for i, word in enumerate(words[1:], 1):
            value = f"{word}[{lane * b} +: {b}]"
            t.add(f"  wire [{b - 1}:0] {name}_{lane}_{i} = ({cast}({value}) > {cast}({best})) ? {value} : {best};")
            best = f"{name}_{lane}_{i}"
        lanes.append(best)
    return "{" + ", ".join(reversed(lanes)) + "}"


def _window_unit(name: str, shape: WindowShape, reads: list[list[int]], op: str) -> str:
    s, words = shape, shape.frame_words
    ww, beats, per_beat = s.group * s.bits, len(reads), len(reads[0])
    ab = clog2(2 * words)
    wb, bb, yb, xb = clog2(words), clog2(beats), clog2(s.out_height), clog2(s.out_width)
    out_width = per_beat * ww if op == "window" else ww
    t = Text()
    t.header(name, f"{'window generator' if op == 'window' else 'max pool'} {s.height}x{s.width}x{s.channels} "
             f"K{s.kernel} S{s.stride}, {s.group * s.in_words} values in, {out_width // s.bits} out per beat",
             ww * s.in_words, out_width)
    t.add(f"  reg [{ww - 1}:0] mem [0:{2 * words - 1}];",
          # writer: word wcount of frame wf into bank wf[0]; reader: frame rf from bank rf[0]
          f"  reg [{wb - 1}:0] wcount;", "  reg [1:0] wf, rf;",
          "  wire [1:0] ahead = wf - rf;",
          "  assign in_ready = (ahead != 2'd2);",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin wcount <= {wb}'d0; wf <= 2'd0; end",
          "    else if (in_valid && in_ready) begin",
          *(f"      mem[{_bank_base('wf', words, ab)} + {zext('wcount', wb, ab)} + {ab}'d{i}] <= in_data[{i * ww} +: {ww}];"
            for i in range(s.in_words)),
          f"      if (wcount == {wb}'d{words - s.in_words}) begin wcount <= {wb}'d0; wf <= wf + 1'b1; end",
          f"      else wcount <= wcount + {wb}'d{s.in_words};",
          "    end",
          "  end",
          f"  reg [{bb - 1}:0] beat;", f"  reg [{yb - 1}:0] oy;", f"  reg [{xb - 1}:0] ox;",
          # the last word this position reads: the bottom-right pixel's last word
          f"  wire [31:0] oy32 = {zext('oy', yb, 32)};", f"  wire [31:0] ox32 = {zext('ox', xb, 32)};",
          f"  wire [31:0] need = ((oy32 * {s.stride} + {s.kernel - 1}) * {s.width} + ox32 * {s.stride}"
          f" + {s.kernel - 1}) * {s.words_per_pixel} + {s.words_per_pixel - 1};",
          f"  wire ready_window = (ahead != 2'd0) || ({zext('wcount', wb, 32)} > need);",
          f"  wire [31:0] corner = (oy32 * {s.stride * s.width} + ox32 * {s.stride}) * {s.words_per_pixel};",
          f"  wire [{ab - 1}:0] base = {_bank_base('rf', words, ab)} + corner[{ab - 1}:0];")
    # offsets of this beat's reads (a case over the beat within the position)
    for r in range(per_beat):
        t.add(f"  reg [{ab - 1}:0] off{r};", "  always @* begin", "    case (beat)")
        for b, offsets in enumerate(reads):
            t.add(f"      {bb}'d{b}: off{r} = {ab}'d{offsets[r]};")
        t.add(f"      default: off{r} = {ab}'d0;", "    endcase", "  end",
              f"  wire [{ww - 1}:0] word{r} = mem[base + off{r}];")
    word_names = [f"word{r}" for r in range(per_beat)]
    value = "{" + ", ".join(reversed(word_names)) + "}" if op == "window" else _lane_max(t, "mx", word_names, s)
    last_beat, last_x, last_y = (f"(beat == {bb}'d{beats - 1})", f"(ox == {xb}'d{s.out_width - 1})",
                                 f"(oy == {yb}'d{s.out_height - 1})")
    t.add("  wire adv = !out_valid || out_ready;",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin out_valid <= 1'b0; beat <= {bb}'d0; ox <= {xb}'d0; oy <= {yb}'d0; rf <= 2'd0; end",
          "    else if (adv) begin",
          "      out_valid <= ready_window;",
          "      if (ready_window) begin",
          f"        out_data <= {value};",
          f"        beat <= {last_beat} ? {bb}'d0 : beat + 1'b1;",
          f"        if ({last_beat}) begin",
          f"          ox <= {last_x} ? {xb}'d0 : ox + 1'b1;",
          f"          if ({last_x}) begin",
          f"            oy <= {last_y} ? {yb}'d0 : oy + 1'b1;",
          f"            if ({last_y}) rf <= rf + 1'b1;",
          "          end",
          "        end",
          "      end",
          "    end",
          "  end")
    t.footer()
    return t.text()


def _bank_base(frame: str, words: int, ab: int) -> str:
    """Address of the first word of frame counter ``frame``'s bank."""
    return f"({frame}[0] ? {ab}'d{words} : {ab}'d0)"
