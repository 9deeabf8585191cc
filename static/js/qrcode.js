// A small QR code encoder of our own (ISO/IEC 18004): byte mode, error correction
// level M, versions 1 to 6 (up to 106 bytes: an entry code is about 45), the mask
// chosen by the standard's penalty rules. Used by the entry-code page to draw fresh
// codes without a network. window.SpotterQR.encode(text) → {version, mask, size,
// modules: rows of booleans}; window.SpotterQR.svg(text) → an SVG string.
(function () {
  "use strict";
  // Per version (index 1..6) at level M: [ecc codewords per block, [data codewords per block...]].
  var BLOCKS = [null,
    [10, [16]], [16, [28]], [26, [44]], [18, [32, 32]], [24, [43, 43]], [16, [27, 27, 27, 27]]];
  var ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34]];
  var M_FORMAT_BITS = 0; // level M is 00 in the format information

  // Arithmetic in GF(256) modulo x^8 + x^4 + x^3 + x^2 + 1.
  var EXP = new Array(512), LOG = new Array(256);
  (function () {
    var x = 1;
    for (var i = 0; i < 255; i++) { EXP[i] = x; LOG[x] = i; x <<= 1; if (x & 0x100) x ^= 0x11d; }
    for (i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  })();
  function mul(a, b) { return a && b ? EXP[LOG[a] + LOG[b]] : 0; }

  function generator(degree) {
    var poly = [1];
    for (var i = 0; i < degree; i++) {
      var next = new Array(poly.length + 1).fill(0);
      for (var j = 0; j < poly.length; j++) {
        next[j] ^= poly[j];
        next[j + 1] ^= mul(poly[j], EXP[i]);
      }
      poly = next;
    }
    return poly;
  }

  function remainder(data, degree) {
    var gen = generator(degree);
    var rest = new Array(degree).fill(0);
    data.forEach(function (byte) {
      var factor = byte ^ rest.shift();
      rest.push(0);
      for (var i = 0; i < degree; i++) rest[i] ^= mul(gen[i + 1], factor);
    });
    return rest;
  }

  function utf8(text) {
    return Array.from(new TextEncoder().encode(text));
  }

  function codewords(bytes, version) {
    var spec = BLOCKS[version], capacity = spec[1].reduce(function (a, b) { return a + b; }, 0);
    var bits = [];
    function put(value, length) { for (var i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1); }
    put(4, 4); // byte mode
    put(bytes.length, 8);
    bytes.forEach(function (b) { put(b, 8); });
    put(0, Math.min(4, capacity * 8 - bits.length));
    while (bits.length % 8) bits.push(0);
    var data = [];
    for (var i = 0; i < bits.length; i += 8) data.push(parseInt(bits.slice(i, i + 8).join(""), 2));
    for (var pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);
    // Split into blocks, add each block's error correction, interleave.
    var blocks = [], eccs = [], offset = 0;
    spec[1].forEach(function (length) {
      var block = data.slice(offset, offset + length);
      offset += length;
      blocks.push(block);
      eccs.push(remainder(block, spec[0]));
    });
    var out = [], longest = Math.max.apply(null, spec[1]);
    for (i = 0; i < longest; i++) blocks.forEach(function (b) { if (i < b.length) out.push(b[i]); });
    for (i = 0; i < spec[0]; i++) eccs.forEach(function (e) { out.push(e[i]); });
    return out;
  }

  function Grid(version) {
    var size = version * 4 + 17;
    this.size = size;
    this.dark = [];
    this.fixed = [];
    for (var y = 0; y < size; y++) {
      this.dark.push(new Array(size).fill(false));
      this.fixed.push(new Array(size).fill(false));
    }
  }
  Grid.prototype.set = function (x, y, dark) { this.dark[y][x] = dark; this.fixed[y][x] = true; };

  function drawFunctionPatterns(grid, version) {
    var size = grid.size, x, y, i;
    for (i = 0; i < size; i++) { grid.set(6, i, i % 2 === 0); grid.set(i, 6, i % 2 === 0); }
    [[3, 3], [size - 4, 3], [3, size - 4]].forEach(function (c) {
      for (var dy = -4; dy <= 4; dy++) {
        for (var dx = -4; dx <= 4; dx++) {
          var xx = c[0] + dx, yy = c[1] + dy;
          if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
          var d = Math.max(Math.abs(dx), Math.abs(dy));
          grid.set(xx, yy, d !== 2 && d !== 4);
        }
      }
    });
    var centres = ALIGN[version];
    centres.forEach(function (cy, a) {
      centres.forEach(function (cx, b) {
        var last = centres.length - 1;
        if ((a === 0 && b === 0) || (a === 0 && b === last) || (a === last && b === 0)) return;
        for (var dy = -2; dy <= 2; dy++) {
          for (var dx = -2; dx <= 2; dx++) {
            grid.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
          }
        }
      });
    });
    drawFormat(grid, 0); // reserves the format areas; redrawn once the mask is known
  }

  function drawFormat(grid, mask) {
    var size = grid.size, data = (M_FORMAT_BITS << 3) | mask, rem = data, i;
    for (i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    var bits = ((data << 10) | rem) ^ 0x5412;
    function bit(k) { return ((bits >>> k) & 1) !== 0; }
    for (i = 0; i <= 5; i++) grid.set(8, i, bit(i));
    grid.set(8, 7, bit(6));
    grid.set(8, 8, bit(7));
    grid.set(7, 8, bit(8));
    for (i = 9; i < 15; i++) grid.set(14 - i, 8, bit(i));
    for (i = 0; i < 8; i++) grid.set(size - 1 - i, 8, bit(i));
    for (i = 8; i < 15; i++) grid.set(8, size - 15 + i, bit(i));
    grid.set(8, size - 8, true); // the dark module
  }

  function placeData(grid, words) {
    var size = grid.size, i = 0, total = words.length * 8;
    for (var right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (var vert = 0; vert < size; vert++) {
        for (var j = 0; j < 2; j++) {
          var x = right - j, upward = ((right + 1) & 2) === 0;
          var y = upward ? size - 1 - vert : vert;
          if (!grid.fixed[y][x] && i < total) {
            grid.dark[y][x] = ((words[i >>> 3] >>> (7 - (i & 7))) & 1) !== 0;
            i++;
          }
        }
      }
    }
  }

  var MASKS = [
    function (x, y) { return (x + y) % 2 === 0; },
    function (x, y) { return y % 2 === 0; },
    function (x) { return x % 3 === 0; },
    function (x, y) { return (x + y) % 3 === 0; },
    function (x, y) { return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0; },
    function (x, y) { return (x * y) % 2 + (x * y) % 3 === 0; },
    function (x, y) { return ((x * y) % 2 + (x * y) % 3) % 2 === 0; },
    function (x, y) { return ((x + y) % 2 + (x * y) % 3) % 2 === 0; },
  ];

  function applyMask(grid, mask) {
    for (var y = 0; y < grid.size; y++) {
      for (var x = 0; x < grid.size; x++) {
        if (!grid.fixed[y][x] && MASKS[mask](x, y)) grid.dark[y][x] = !grid.dark[y][x];
      }
    }
  }

  var FINDER_A = [1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], FINDER_B = FINDER_A.slice().reverse();
  function penalty(grid) {
    var size = grid.size, score = 0, x, y, darkCount = 0;
    function lines(get) {
      for (var a = 0; a < size; a++) {
        var run = 1, line = [];
        for (var b = 0; b < size; b++) line.push(get(a, b) ? 1 : 0);
        for (b = 1; b <= size; b++) {
          if (b < size && line[b] === line[b - 1]) { run++; continue; }
          if (run >= 5) score += 3 + (run - 5);
          run = 1;
        }
        for (b = 0; b + 11 <= size; b++) {
          var slice = line.slice(b, b + 11).join("");
          if (slice === FINDER_A.join("") || slice === FINDER_B.join("")) score += 40;
        }
      }
    }
    lines(function (a, b) { return grid.dark[a][b]; });
    lines(function (a, b) { return grid.dark[b][a]; });
    for (y = 0; y + 1 < size; y++) {
      for (x = 0; x + 1 < size; x++) {
        var c = grid.dark[y][x];
        if (c === grid.dark[y][x + 1] && c === grid.dark[y + 1][x] && c === grid.dark[y + 1][x + 1]) score += 3;
      }
    }
    grid.dark.forEach(function (row) { row.forEach(function (d) { if (d) darkCount++; }); });
    var total = size * size;
    score += (Math.ceil(Math.abs(darkCount * 20 - total * 10) / total) - 1) * 10;
    return score;
  }

  function encode(text) {
    var bytes = utf8(text), version = 0;
    for (var v = 1; v < BLOCKS.length; v++) {
      var capacity = BLOCKS[v][1].reduce(function (a, b) { return a + b; }, 0);
      if (4 + 8 + bytes.length * 8 <= capacity * 8) { version = v; break; }
    }
    if (!version) throw new Error("Too long for an entry code");
    var words = codewords(bytes, version), best = null, bestScore = Infinity;
    for (var mask = 0; mask < 8; mask++) {
      var grid = new Grid(version);
      drawFunctionPatterns(grid, version);
      placeData(grid, words);
      applyMask(grid, mask);
      drawFormat(grid, mask);
      var score = penalty(grid);
      if (score < bestScore) { best = { grid: grid, mask: mask }; bestScore = score; }
    }
    return { version: version, mask: best.mask, size: best.grid.size, modules: best.grid.dark };
  }

  function svg(text, border) {
    border = border === undefined ? 4 : border;
    var code = encode(text), full = code.size + border * 2, path = "";
    code.modules.forEach(function (row, y) {
      row.forEach(function (dark, x) { if (dark) path += "M" + (x + border) + " " + (y + border) + "h1v1h-1z"; });
    });
    return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' + full + " " + full +
      '" shape-rendering="crispEdges" data-version="' + code.version + '" data-mask="' + code.mask +
      '"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="' + path + '"/></svg>';
  }

  window.SpotterQR = { encode: encode, svg: svg };
})();
