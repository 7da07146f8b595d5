"""The HTML/CSS/JS of the side-by-side viewer (see :mod:`.viewer`).

One self-contained page: no external script, style sheet or font, so it
works offline from a ``file://`` URL. :func:`.viewer.write_viewer` fills
in two placeholders: ``__TITLE__`` (HTML-escaped) and ``__DATA__`` (a JSON
object, ``<``/``>``/``&`` escaped so that it cannot close the script):

- ``title``, ``fps``, ``frames``, ``width``, ``height``: the clip;
- ``streams``: ``[{label, src, width, height}]`` in display order, ``src``
  relative to the page, ``width``/``height`` the stored (even) size;
- ``wipe``: the two labels shown left/right of the wipe at load;
- ``metrics``: ``{metric: {series: [value | null per frame]}}`` or null.

The page publishes ``window.viewer`` (``frame()``, ``seekFrame(k)``,
``play()``, ``pause()``, ``setSplit(fraction)``, ``setWipe(a, b)``) for
scripting, and exposes the wipe state as ``data-split`` (pixels of the
clip) and ``data-a``/``data-b`` on the wipe canvas.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
body { font-family: sans-serif; margin: 12px; background: #1e1e1e;
       color: #ddd; }
h1 { font-size: 1.2em; margin: 0 0 4px 0; }
#info, #help { color: #999; font-size: 0.85em; margin: 2px 0 8px 0; }
#status { color: #f66; }
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px;
       margin: 6px 0; }
button, select { background: #333; color: #ddd; border: 1px solid #555;
                 padding: 3px 8px; }
#seek { flex: 1 1 300px; }
#wipe { width: 300px; }
.box { position: relative; overflow: hidden; background: #000; }
.box video, .box canvas { position: absolute; left: 0; top: 0;
                          image-rendering: pixelated; }
#wipe-line { position: absolute; top: 0; width: 1px; height: 100%;
             background: rgba(255, 255, 255, 0.8); pointer-events: none; }
.tag { position: absolute; top: 2px; padding: 0 4px; font-size: 0.8em;
       background: rgba(0, 0, 0, 0.6); pointer-events: none; }
#wipe-box { cursor: col-resize; }
#grid { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 10px; }
.tile figcaption { font-size: 0.85em; margin-bottom: 2px; }
.chart { margin-top: 10px; }
.chart svg { background: #111; cursor: pointer; }
.chart .readout { font-size: 0.85em; color: #bbb; }
.legend span { margin-right: 12px; font-size: 0.85em; }
</style>
</head>
<body>
<h1 id="title"></h1>
<p id="info"></p>
<p id="status"></p>
<div class="bar">
  <button id="play" title="Play / pause (Space)">Play</button>
  <button id="prev" title="Previous frame (Left arrow or ,)">&#9664;
    frame</button>
  <button id="next" title="Next frame (Right arrow or .)">frame
    &#9654;</button>
  <input type="range" id="seek" min="0" max="0" value="0" step="1">
  <span id="frame"></span>
  <label>speed <select id="speed"></select></label>
  <label><input type="checkbox" id="loop" checked> loop</label>
</div>
<div class="bar">
  <label>left <select id="wipe-a"></select></label>
  <input type="range" id="wipe" min="0" max="1000" value="500" step="1">
  <label><select id="wipe-b"></select> right</label>
  <label>zoom <select id="zoom"></select></label>
</div>
<div id="wipe-box" class="box">
  <canvas id="wipe-canvas"></canvas>
  <div id="wipe-line"></div>
  <span class="tag" id="tag-a"></span>
  <span class="tag" id="tag-b"></span>
</div>
<div class="bar">
  <label>tile zoom <select id="tile-zoom"></select></label>
</div>
<div id="grid"></div>
<div id="metrics"></div>
<p id="help">Keys: Space play/pause, Left/Right (or , and .) previous/next
frame, Home first frame. Drag on the wipe to move the split. Click a curve
to go to that frame.</p>
<script>
const VIEWER_DATA = __DATA__;
</script>
<script>
(function () {
  'use strict';
  const D = VIEWER_DATA;
  const N = D.frames;
  const FPS = D.fps;
  const W = D.width;
  const H = D.height;
  const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4',
                   '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#dcbeff'];
  const $ = (id) => document.getElementById(id);
  const status = (msg) => { $('status').textContent = msg; };
  const svgNS = 'http://www.w3.org/2000/svg';

  document.title = D.title;
  $('title').textContent = D.title;
  $('info').textContent = N + ' frames, ' + W + '\u00d7' + H + ', ' +
      FPS + ' fps; ' + D.streams.length + ' videos (' +
      D.streams.map((s) => s.label).join(', ') + ')';

  function fillSelect(sel, values, labels, value) {
    values.forEach((v, i) => {
      const o = document.createElement('option');
      o.value = String(v);
      o.textContent = labels[i];
      sel.appendChild(o);
    });
    sel.value = String(value);
  }
  const zooms = [0.25, 0.5, 1, 2, 3, 4, 6, 8];
  const fit = (px) => zooms.filter((z) => z <= 1 || W * z <= px).pop();
  const zoomLabels = zooms.map((z) => (z * 100) + '%');
  fillSelect($('zoom'), zooms, zoomLabels, fit(1280));
  fillSelect($('tile-zoom'), zooms, zoomLabels, fit(420));
  const speeds = [0.1, 0.25, 0.5, 1, 2];
  fillSelect($('speed'), speeds, speeds.map((s) => s + '\u00d7'), 1);

  // one video element per stream: the grid tiles; the wipe is drawn
  // from them, so it is in sync with the grid by construction
  const videos = D.streams.map((s, i) => {
    const fig = document.createElement('figure');
    fig.className = 'tile';
    fig.style.margin = '0';
    const cap = document.createElement('figcaption');
    cap.textContent = s.label;
    cap.style.color = PALETTE[i % PALETTE.length];
    const box = document.createElement('div');
    box.className = 'box';
    const v = document.createElement('video');
    v.muted = true;
    v.playsInline = true;
    v.preload = 'auto';
    v.src = s.src;
    v.dataset.label = s.label;
    v.addEventListener('error', () => {
      status('cannot play ' + s.src + ' (' + s.label + '): ' +
             (v.error ? v.error.message || v.error.code : 'error'));
    });
    box.appendChild(v);
    fig.appendChild(cap);
    fig.appendChild(box);
    $('grid').appendChild(fig);
    return v;
  });
  const master = videos[0];
  const byLabel = {};
  D.streams.forEach((s, i) => { byLabel[s.label] = videos[i]; });

  function layout() {
    const z = Number($('zoom').value);
    const tz = Number($('tile-zoom').value);
    const wb = $('wipe-box');
    wb.style.width = (W * z) + 'px';
    wb.style.height = (H * z) + 'px';
    const c = $('wipe-canvas');
    c.style.width = (W * z) + 'px';
    c.style.height = (H * z) + 'px';
    D.streams.forEach((s, i) => {
      // stored frames may be padded to even sizes: the box crops them
      const v = videos[i];
      v.style.width = (s.width * tz) + 'px';
      v.style.height = (s.height * tz) + 'px';
      v.parentNode.style.width = (W * tz) + 'px';
      v.parentNode.style.height = (H * tz) + 'px';
    });
    drawWipe();
  }

  // ---- time and sync
  let playing = false;
  let rate = 1;
  const frameOf = (t) => Math.min(N - 1, Math.max(0,
      Math.floor(t * FPS + 1e-4)));
  const frame = () => frameOf(master.currentTime);
  function seekFrame(k) {
    k = Math.min(N - 1, Math.max(0, Math.round(k)));
    // the middle of frame k: no rounding at a frame boundary
    const t = (k + 0.5) / FPS;
    videos.forEach((v) => { v.currentTime = t; });
    update(k);
  }
  function play() {
    if (playing) return;
    if (frame() >= N - 1) seekFrame(0);
    playing = true;
    $('play').textContent = 'Pause';
    videos.forEach((v) => {
      v.playbackRate = rate;
      v.play().catch((e) => {
        if (e.name !== 'AbortError') status('play failed: ' + e.message);
      });
    });
  }
  function pause() {
    playing = false;
    $('play').textContent = 'Play';
    videos.forEach((v) => v.pause());
    seekFrame(frame());
  }
  function resync() {
    const t = master.currentTime;
    for (let i = 1; i < videos.length; i++) {
      const v = videos[i];
      const d = v.currentTime - t;
      if (Math.abs(d) > 1 / FPS) {
        v.currentTime = t;
        v.playbackRate = rate;
      } else if (Math.abs(d) > 0.2 / FPS) {
        v.playbackRate = rate * (d > 0 ? 0.9 : 1.1);
      } else {
        v.playbackRate = rate;
      }
      if (v.paused && !v.ended) v.play().catch(() => {});
    }
  }
  master.addEventListener('ended', () => {
    if ($('loop').checked) {
      videos.forEach((v) => v.pause());
      seekFrame(0);
      playing = false;
      play();
    } else {
      pause();
      seekFrame(N - 1);
    }
  });

  // ---- wipe
  let split = 0.5;
  function selected() {
    return [byLabel[$('wipe-a').value], byLabel[$('wipe-b').value]];
  }
  function drawWipe() {
    const c = $('wipe-canvas');
    if (c.width !== W) c.width = W;
    if (c.height !== H) c.height = H;
    const ctx = c.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    const [a, b] = selected();
    const sx = Math.round(split * W);
    c.dataset.split = String(sx);
    c.dataset.a = $('wipe-a').value;
    c.dataset.b = $('wipe-b').value;
    if (a.readyState >= 2 && sx > 0) {
      ctx.drawImage(a, 0, 0, sx, H, 0, 0, sx, H);
    }
    if (b.readyState >= 2 && sx < W) {
      ctx.drawImage(b, sx, 0, W - sx, H, sx, 0, W - sx, H);
    }
    const z = Number($('zoom').value);
    $('wipe-line').style.left = (sx * z) + 'px';
    $('tag-a').textContent = '\u25c0 ' + $('wipe-a').value;
    $('tag-a').style.left = '2px';
    $('tag-b').textContent = $('wipe-b').value + ' \u25b6';
    $('tag-b').style.right = '2px';
  }
  function setSplit(f) {
    split = Math.min(1, Math.max(0, f));
    $('wipe').value = String(Math.round(split * 1000));
    drawWipe();
  }
  function setWipe(a, b) {
    if (!(a in byLabel) || !(b in byLabel)) {
      throw new Error('unknown stream: ' + a + ', ' + b);
    }
    $('wipe-a').value = a;
    $('wipe-b').value = b;
    drawWipe();
  }
  const labels = D.streams.map((s) => s.label);
  fillSelect($('wipe-a'), labels, labels, D.wipe[0]);
  fillSelect($('wipe-b'), labels, labels, D.wipe[1]);
  $('wipe-a').addEventListener('change', drawWipe);
  $('wipe-b').addEventListener('change', drawWipe);
  $('wipe').addEventListener('input',
      () => setSplit(Number($('wipe').value) / 1000));
  const wipeBox = $('wipe-box');
  function dragTo(e) {
    const r = wipeBox.getBoundingClientRect();
    setSplit((e.clientX - r.left) / r.width);
  }
  wipeBox.addEventListener('pointerdown', (e) => {
    wipeBox.setPointerCapture(e.pointerId);
    dragTo(e);
  });
  wipeBox.addEventListener('pointermove', (e) => {
    if (e.buttons) dragTo(e);
  });

  // ---- per-frame metric curves
  const charts = [];
  function buildCharts() {
    if (!D.metrics) return;
    const CW = 760;
    const CH = 180;
    const PL = 56;
    const PR = 10;
    const PT = 10;
    const PB = 22;
    const xOf = (k) => PL + (N > 1 ? k / (N - 1) : 0.5) * (CW - PL - PR);
    // a series named like a stream takes that stream's colour
    const extra = [];
    const color = (name) => {
      let i = labels.indexOf(name);
      if (i < 0) {
        if (!extra.includes(name)) extra.push(name);
        i = labels.length + extra.indexOf(name);
      }
      return PALETTE[i % PALETTE.length];
    };
    Object.keys(D.metrics).forEach((metric) => {
      const series = D.metrics[metric];
      const names = Object.keys(series);
      const vals = [];
      names.forEach((n) => series[n].forEach((v) => {
        if (v !== null) vals.push(v);
      }));
      let lo = vals.length ? Math.min(...vals) : 0;
      let hi = vals.length ? Math.max(...vals) : 1;
      if (hi - lo < 1e-12) { lo -= 1; hi += 1; }
      const pad = (hi - lo) * 0.05;
      lo -= pad;
      hi += pad;
      const yOf = (v) => PT + (hi - v) / (hi - lo) * (CH - PT - PB);
      const div = document.createElement('div');
      div.className = 'chart';
      const head = document.createElement('div');
      head.className = 'legend';
      const b = document.createElement('b');
      b.textContent = metric + ' per frame  ';
      head.appendChild(b);
      const svg = document.createElementNS(svgNS, 'svg');
      svg.setAttribute('width', CW);
      svg.setAttribute('height', CH);
      svg.setAttribute('data-metric', metric);
      const el = (tag, attrs, text) => {
        const e = document.createElementNS(svgNS, tag);
        Object.keys(attrs).forEach((k) => e.setAttribute(k, attrs[k]));
        if (text !== undefined) e.textContent = text;
        svg.appendChild(e);
        return e;
      };
      el('line', {x1: PL, x2: PL, y1: PT, y2: CH - PB, stroke: '#666'});
      el('line', {x1: PL, x2: CW - PR, y1: CH - PB, y2: CH - PB,
                  stroke: '#666'});
      [hi - pad, (hi + lo) / 2, lo + pad].forEach((v) => {
        el('text', {x: PL - 4, y: yOf(v) + 4, fill: '#999',
                    'font-size': 11, 'text-anchor': 'end'},
           Number(v.toPrecision(5)).toString());
        el('line', {x1: PL, x2: CW - PR, y1: yOf(v), y2: yOf(v),
                    stroke: '#333'});
      });
      [0, N - 1].forEach((k) => {
        el('text', {x: xOf(k), y: CH - 6, fill: '#999', 'font-size': 11,
                    'text-anchor': k ? 'end' : 'start'}, String(k));
      });
      names.forEach((n) => {
        const col = color(n);
        let pts = [];
        const flush = () => {
          if (pts.length === 1) {
            const [x, y] = pts[0].split(',');
            el('circle', {cx: x, cy: y, r: 2, fill: col});
          } else if (pts.length) {
            el('polyline', {points: pts.join(' '), fill: 'none',
                            stroke: col, 'stroke-width': 1.5,
                            'data-series': n});
          }
          pts = [];
        };
        series[n].forEach((v, k) => {
          if (v === null) { flush(); return; }
          pts.push(xOf(k).toFixed(2) + ',' + yOf(v).toFixed(2));
        });
        flush();
        const s = document.createElement('span');
        s.style.color = col;
        s.textContent = '\u2014 ' + n;
        head.appendChild(s);
      });
      const marker = el('line', {x1: PL, x2: PL, y1: PT, y2: CH - PB,
                                 stroke: '#fff', 'stroke-width': 1,
                                 'class': 'marker'});
      svg.addEventListener('click', (e) => {
        const r = svg.getBoundingClientRect();
        const f = (e.clientX - r.left - PL) / (CW - PL - PR);
        if (playing) pause();
        seekFrame(f * (N - 1));
      });
      const readout = document.createElement('div');
      readout.className = 'readout';
      div.appendChild(head);
      div.appendChild(svg);
      div.appendChild(readout);
      $('metrics').appendChild(div);
      charts.push({marker, readout, xOf, names, ser: series});
    });
  }

  let shown = -1;
  function update(k) {
    if (k === undefined) k = frame();
    drawWipe();
    if (k === shown) return;
    shown = k;
    $('frame').textContent = 'frame ' + k + ' / ' + (N - 1) + '  (' +
        (k / FPS).toFixed(3) + ' s)';
    $('seek').value = String(k);
    charts.forEach((c) => {
      const x = c.xOf(k);
      c.marker.setAttribute('x1', x);
      c.marker.setAttribute('x2', x);
      c.readout.textContent = 'frame ' + k + ': ' + c.names.map((n) => {
        const v = c.ser[n][k];
        return n + ' ' + (v === null ? '-' : Number(v.toPrecision(5)));
      }).join(', ');
    });
  }

  function tick() {
    if (playing) resync();
    update();
    requestAnimationFrame(tick);
  }

  // ---- controls
  $('seek').max = String(N - 1);
  $('seek').addEventListener('input', () => {
    if (playing) pause();
    seekFrame(Number($('seek').value));
  });
  const step = (d) => {
    if (playing) pause();
    seekFrame(frame() + d);
  };
  // buttons give the focus back, so that Space is not also a click
  const onClick = (id, fn) => $(id).addEventListener('click', (e) => {
    e.currentTarget.blur();
    fn();
  });
  onClick('play', () => (playing ? pause() : play()));
  onClick('prev', () => step(-1));
  onClick('next', () => step(1));
  $('speed').addEventListener('change', () => {
    rate = Number($('speed').value);
    videos.forEach((v) => { v.playbackRate = rate; });
  });
  $('zoom').addEventListener('change', layout);
  $('tile-zoom').addEventListener('change', layout);
  document.addEventListener('keydown', (e) => {
    // sliders and selects keep their own keys
    if (e.target.tagName === 'SELECT' || e.target.tagName === 'INPUT') {
      return;
    }
    if (e.key === 'ArrowLeft' || e.key === ',') {
      step(-1);
    } else if (e.key === 'ArrowRight' || e.key === '.') {
      step(1);
    } else if (e.key === ' ') {
      if (playing) pause(); else play();
    } else if (e.key === 'Home') {
      step(-N);
    } else {
      return;
    }
    e.preventDefault();
  });
  videos.forEach((v) => {
    v.addEventListener('seeked', () => update());
    v.addEventListener('loadeddata', () => update());
  });
  master.addEventListener('loadedmetadata', () => seekFrame(0));

  buildCharts();
  layout();
  update(0);
  requestAnimationFrame(tick);
  window.viewer = {frame, seekFrame, play, pause, setSplit, setWipe,
                   isPlaying: () => playing, videos};
})();
</script>
</body>
</html>
"""
