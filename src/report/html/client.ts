// The pages' only script besides uPlot: reads the chart specifications (JSON in a <script> element)
// and draws each into its placeholder. Plain ES5-style JavaScript in a string, so it runs as is.

export const CLIENT_JS = String.raw`(function () {
  'use strict';
  var specs = JSON.parse(document.getElementById('s2-charts').textContent);
  var BYTES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  var H = 220;
  var drawn = [];

  function fmtBytes(v) {
    var i = 0;
    while (Math.abs(v) >= 1024 && i < BYTES.length - 1) { v /= 1024; i++; }
    return (Number.isInteger(v) ? v : v.toFixed(1)) + ' ' + BYTES[i];
  }
  function fmtSi(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toPrecision(3) + 'G';
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + 'M';
    if (a >= 1e3) return (v / 1e3).toPrecision(3) + 'k';
    if (Number.isInteger(v)) return String(v);
    return v.toPrecision(3);
  }
  // uPlot hands null for ticks it leaves unlabelled (log axes), so every formatter accepts it.
  function formatter(unit) {
    var f = fmtSi;
    if (unit === 'bytes') f = fmtBytes;
    if (unit === 'count') f = function (v) { return Number.isInteger(v) ? v.toLocaleString('en-US') : fmtSi(v); };
    if (unit === '%') f = function (v) { return (v > 0 ? '+' : '') + v.toFixed(1) + '%'; };
    return function (v) { return v == null || !isFinite(v) ? '' : f(v); };
  }
  // Marks a placeholder once uPlot has really drawn into it (the test waits for this mark).
  function make(el, opts, data) {
    opts.hooks = opts.hooks || {};
    opts.hooks.draw = (opts.hooks.draw || []).concat([function () { el.setAttribute('data-drawn', 'true'); }]);
    return new uPlot(opts, data, el);
  }
  // Binary steps for byte axes, so ticks read 512 MiB, 1 GiB rather than 976.6 KiB.
  var BYTE_INCRS = [];
  for (var k = 0; k < 7; k++) for (var m = 1; m <= 512; m *= 2) BYTE_INCRS.push(m * Math.pow(1024, k));
  function valueAxis(unit, f) {
    var axis = { values: function (u, sp) { return sp.map(f); }, size: 84 };
    if (unit === 'bytes') axis.incrs = BYTE_INCRS;
    if (unit === 'count') axis.incrs = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 25e3, 5e4, 1e5, 2e5, 25e4, 5e5, 1e6, 2e6, 25e5, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10, 1e11, 1e12];
    return axis;
  }
  function widthOf(el) { return Math.max(240, Math.floor(el.clientWidth || 320)); }
  function range(values, extra) {
    var lo = 0, hi = 0;
    values.forEach(function (v) { if (v != null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (extra) extra.forEach(function (v) { if (v != null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (lo === 0 && hi === 0) return [0, 1];
    var pad = (hi - lo) * 0.18;
    return [lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : 0];
  }
  function valueLabels(values, f) {
    return function (u) {
      var ctx = u.ctx, dpr = window.devicePixelRatio || 1;
      ctx.save();
      ctx.font = (11 * dpr) + 'px system-ui, sans-serif';
      ctx.fillStyle = '#374151';
      ctx.textAlign = 'center';
      for (var i = 0; i < values.length; i++) {
        var v = values[i];
        if (v == null || !isFinite(v)) continue;
        var x = u.valToPos(i, 'x', true), y = u.valToPos(v, 'y', true);
        ctx.textBaseline = v < 0 ? 'top' : 'bottom';
        ctx.fillText(f(v), x, v < 0 ? y + 3 * dpr : y - 3 * dpr);
      }
      ctx.restore();
    };
  }
  // Category labels may hold several lines (uPlot splits on newlines); the axis grows to fit them.
  function categoryAxis(labels) {
    var xs = labels.map(function (_, i) { return i; });
    var lines = 1;
    labels.forEach(function (l) { lines = Math.max(lines, String(l).split('\n').length); });
    return {
      splits: function () { return xs; },
      values: function (u, sp) { return sp.map(function (i) { return labels[i] === undefined ? '' : labels[i]; }); },
      grid: { show: false },
      gap: 4,
      size: 18 + 14 * lines
    };
  }
  function barSeries(color) {
    return { label: '', fill: color, stroke: color, width: 0, fillTo: 0, points: { show: false },
             paths: uPlot.paths.bars({ size: [0.6, 64] }) };
  }

  // Ticks and grid lines of a log axis: powers of ten only.
  function decades(u, axisIdx, min, max) {
    var out = [];
    for (var v = min; v <= max * 1.0001; v *= 10) out.push(v);
    return out;
  }

  function bars(el, s) {
    var n = s.labels.length, xs = [];
    for (var i = 0; i < n; i++) xs.push(i);
    var colors = typeof s.colors === 'string' ? s.labels.map(function () { return s.colors; }) : s.colors;
    var distinct = [];
    colors.forEach(function (c) { if (distinct.indexOf(c) < 0) distinct.push(c); });
    var data = [xs], series = [{}];
    // One series per colour: uPlot colours a series, not a bar.
    distinct.forEach(function (c) {
      data.push(s.values.map(function (v, i) { return colors[i] === c ? v : null; }));
      series.push(barSeries(c));
    });
    var f = formatter(s.unit);
    var y = { range: range(s.values) };
    if (s.log) {
      // Bars on a log axis start from the axis floor; zeros cannot be drawn and are left out.
      var positive = s.values.filter(function (v) { return v > 0; });
      var lo = Math.pow(10, Math.floor(Math.log10(Math.min.apply(null, positive))));
      var hi = Math.pow(10, Math.ceil(Math.log10(Math.max.apply(null, positive) * 2)));
      y = { distr: 3, log: 10, range: [lo, hi] };
      for (var d = 1; d < data.length; d++) data[d] = data[d].map(function (v) { return v > 0 ? v : null; });
      for (var q = 1; q < series.length; q++) series[q].fillTo = lo;
    }
    return make(el, {
      width: widthOf(el), height: H, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, n - 0.5] }, y: y },
      axes: [categoryAxis(s.labels), s.log ? { splits: decades, values: function (u, sp) { return sp.map(f); }, size: 84 } : valueAxis(s.unit, f)],
      series: series,
      hooks: { draw: [valueLabels(s.values, f)] }
    }, data);
  }

  function repeats(el, s) {
    var base = s.baseline || [];
    var n = Math.max(s.values.length, base.length), xs = [];
    for (var i = 0; i < n; i++) xs.push(i + 1);
    var pad = function (arr) { var out = arr.slice(); while (out.length < n) out.push(null); return out; };
    var f = formatter(s.unit);
    var data = [xs], series = [{ label: 'repeat' }];
    var points = function (label, color) {
      return { label: label, stroke: color, fill: color, width: 0, paths: function () { return null; },
               points: { show: true, size: 10, width: 1, stroke: color, fill: color } };
    };
    if (base.length > 0) { data.push(pad(base)); series.push(points('baseline', '#9ca3af')); }
    data.push(pad(s.values)); series.push(points('this run', s.color));
    data.push(xs.map(function () { return s.median; }));
    series.push({ label: 'median', stroke: '#111827', width: 1.5, dash: [6, 4], points: { show: false } });
    return make(el, {
      width: widthOf(el), height: H, legend: { show: true, live: false }, cursor: { show: false },
      scales: { x: { time: false, range: [0.5, n + 0.5] }, y: { range: range(s.values.concat([s.median]), base) } },
      axes: [{ splits: function () { return xs; }, values: function (u, sp) { return sp.map(function (v) { return '#' + v; }); }, grid: { show: false } },
             valueAxis(s.unit, f)],
      series: series
    }, data);
  }

  function change(el, s) {
    var n = s.labels.length, xs = [];
    for (var i = 0; i < n; i++) xs.push(i);
    var distinct = [];
    s.colors.forEach(function (c) { if (distinct.indexOf(c) < 0) distinct.push(c); });
    var data = [xs], series = [{}];
    distinct.forEach(function (c) {
      data.push(s.pct.map(function (v, i) { return s.colors[i] === c ? v : null; }));
      series.push(barSeries(c));
    });
    var f = formatter('%');
    var whiskers = function (u) {
      var ctx = u.ctx, dpr = window.devicePixelRatio || 1;
      ctx.save();
      ctx.strokeStyle = '#111827';
      ctx.lineWidth = 1.5 * dpr;
      for (var i = 0; i < n; i++) {
        if (!isFinite(s.low[i]) || !isFinite(s.high[i])) continue;
        var x = u.valToPos(i, 'x', true), y0 = u.valToPos(s.low[i], 'y', true), y1 = u.valToPos(s.high[i], 'y', true);
        ctx.beginPath();
        ctx.moveTo(x, y0); ctx.lineTo(x, y1);
        ctx.moveTo(x - 5 * dpr, y0); ctx.lineTo(x + 5 * dpr, y0);
        ctx.moveTo(x - 5 * dpr, y1); ctx.lineTo(x + 5 * dpr, y1);
        ctx.stroke();
      }
      ctx.restore();
    };
    return make(el, {
      width: widthOf(el), height: H + 40, legend: { show: false }, cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, n - 0.5] }, y: { range: range(s.pct, s.low.concat(s.high)) } },
      axes: [categoryAxis(s.labels), { values: function (u, sp) { return sp.map(f); }, size: 64 }],
      series: series,
      hooks: { draw: [whiskers] }
    }, data);
  }

  function lines(el, s) {
    var data = [s.x], series = [{ label: 'events' }], all = [];
    s.lines.forEach(function (l) {
      data.push(l.values);
      all = all.concat(l.values);
      series.push(l.points
        ? { label: l.label, stroke: l.color, fill: l.color, width: 0, paths: function () { return null; },
            points: { show: true, size: 8, width: 1, stroke: l.color, fill: l.color } }
        : { label: l.label, stroke: l.color, width: 1.5, points: { show: false } });
    });
    var f = formatter(s.unit), fx = formatter('count');
    var last = s.x[s.x.length - 1];
    return make(el, {
      width: widthOf(el), height: H, legend: { show: true, live: false }, cursor: { show: false },
      scales: { x: { time: false, range: [0, last > 0 ? last : 1] }, y: { range: range(all) } },
      axes: [{ values: function (u, sp) { return sp.map(fx); }, size: 36 }, valueAxis(s.unit, f)],
      series: series
    }, data);
  }

  var draw = { bars: bars, repeats: repeats, change: change, lines: lines };
  specs.forEach(function (s) {
    var el = document.getElementById(s.id);
    if (!el) { console.error('s2bench: no placeholder for chart ' + s.id); return; }
    drawn.push({ u: draw[s.kind](el, s), el: el });
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      drawn.forEach(function (d) { d.u.setSize({ width: widthOf(d.el), height: d.u.height }); });
    });
  });
})();`;
