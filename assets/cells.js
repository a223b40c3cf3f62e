// Feature-grid cells arrive with their raw value only; their channel, row and col follow
// from their position, as the trace's meta.cells says (dashboard/figures/cells.py; a sorted
// grid's meta.cells.order names the channel drawn at each tile position). Before
// plotly draws, rebuild the full customdata [value, channel, row, col] that the hover text
// and the click handler read: once per array, so a Patch that only moves the selection
// outline hands plotly the very same array and nothing is recomputed.
(function () {
  'use strict';
  const Plotly = window.Plotly;
  if (!Plotly || Plotly.convscopeCells) {
    return;
  }
  const TYPED = {f4: Float32Array, f8: Float64Array};
  const built = new WeakMap();

  function flatValues(data) {
    // plotly's typed-array JSON {dtype, bdata (base64, little-endian), shape}, or nested lists
    if (data && typeof data.bdata === 'string') {
      const binary = atob(data.bdata);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) {
        bytes[i] = binary.charCodeAt(i);
      }
      const shape = String(data.shape).split(',').map(Number);
      return {values: new (TYPED[data.dtype] || Float32Array)(bytes.buffer), shape: shape};
    }
    return {values: data.flat(), shape: [data.length, data.length ? data[0].length : 0]};
  }

  function expand(cells, data) {
    // one Float32Array of [value, channel, row, col] per cell, as plotly's own typed arrays
    // give: dcc.Graph passes typed-array customdata on to clickData (it drops plain arrays)
    const {values, shape} = flatValues(data);
    const [rows, cols] = shape;
    const order = Array.isArray(cells.order) ? cells.order : null;  // sorted: channel per tile
    const all = new Float32Array(rows * cols * 4);
    const out = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const Y = cells.origin[0] + r;
      const tileRow = Math.floor(Y / cells.pitch[0]);
      const y = Y - tileRow * cells.pitch[0];
      const line = new Array(cols);
      for (let c = 0; c < cols; c++) {
        const X = cells.origin[1] + c;
        const tileCol = Math.floor(X / cells.pitch[1]);
        const x = X - tileCol * cells.pitch[1];
        const position = tileRow * cells.ncols + tileCol;
        const real = position < cells.channels && y < cells.size[0] && x < cells.size[1];
        const i = (r * cols + c) * 4;
        all[i] = values[r * cols + c];
        all[i + 1] = real ? (order ? order[position] : position) : -1;
        all[i + 2] = real ? y * cells.step : -1;
        all[i + 3] = real ? x * cells.step : -1;
        line[c] = all.subarray(i, i + 4);
      }
      out[r] = line;
    }
    return out;
  }

  function withCells(trace) {
    const cells = trace && trace.meta && trace.meta.cells;
    const data = trace && trace.customdata;
    if (!cells || !data || typeof data !== 'object') {
      return trace;
    }
    let full = built.get(data);
    if (!full) {
      full = expand(cells, data);
      built.set(data, full);
    }
    return Object.assign({}, trace, {customdata: full});
  }

  for (const name of ['newPlot', 'react']) {
    const original = Plotly[name];
    Plotly[name] = function (gd, data, layout, config) {
      if (Array.isArray(data)) {
        return original.call(this, gd, data.map(withCells), layout, config);
      }
      if (data && Array.isArray(data.data)) {  // (gd, {data, layout, config, frames})
        data = Object.assign({}, data, {data: data.data.map(withCells)});
      }
      return original.apply(this, [gd, data, layout, config].slice(0, arguments.length));
    };
  }
  Plotly.convscopeCells = true;
})();
