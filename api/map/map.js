// The map page: our tiles over a base drawn from what this server serves (a plain background,
// grid lines, the covered box, and at zoom 13+ the cells' outlines from /v1/cells), over a raster
// basemap when the server names one (TileJSON's basemap, MAP_BASEMAP_URL), a legend from
// the tiles' TileJSON, a slider over the nowcast hour, a choice of layer (the temperature, or its
// difference from the city's median), a click (or the browser's position, on request) for the point's
// forecast chart, and the view in the address for links.
(async function main() {
  'use strict';
  const origin = window.location.origin;
  const tj = await (await fetch('/tiles.json')).json();
  const [west, south, east, north] = tj.bounds;
  let lead = 0;
  let run = tj.run_time;
  let layer = 'temperature';
  let medians = tj.difference_medians_c;
  /** The point whose forecast the panel shows (a click, or the browser's position), or null. */
  let lastClick = null;

  const tileUrl = () => `${origin}/tiles/{z}/{x}/{y}.png?lead=${lead}&layer=${layer}&run=${encodeURIComponent(run || '')}`;

  // Legend from the server's scales (one definition of the colours).
  const legendBar = document.getElementById('legend-bar');
  const ticks = document.getElementById('legend-ticks');
  const legendUnit = document.getElementById('legend-unit');
  const showLegend = () => {
    const scale = layer === 'difference' ? tj.difference_scale : tj.temperature_scale;
    legendBar.style.background = `linear-gradient(to right, ${scale.colors.join(',')})`;
    ticks.replaceChildren(...[0, 1, 2, 3, 4, 5].map((i) => {
      const s = document.createElement('span');
      const v = Math.round((scale.min_c + ((scale.max_c - scale.min_c) * i) / 5) * 100) / 100;
      s.textContent = layer === 'difference' && v > 0 ? `+${v}` : String(v);
      return s;
    }));
    const median = medians && medians[tj.leads_min.indexOf(lead)];
    legendUnit.textContent = layer === 'difference'
      ? `K from the median of the covered cells${typeof median === 'number' ? ` (${median} °C)` : ''}`
      : '°C';
  };
  showLegend();

  const graticule = { type: 'FeatureCollection', features: [] };
  for (let lon = Math.floor(west * 20) / 20; lon <= east + 0.05; lon += 0.05) graticule.features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[lon, south - 0.05], [lon, north + 0.05]] } });
  for (let lat = Math.floor(south * 20) / 20; lat <= north + 0.05; lat += 0.05) graticule.features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[west - 0.05, lat], [east + 0.05, lat]] } });
  const box = { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] } };

  // The configured basemap, if any, under everything of ours (its attribution in the control).
  const base = tj.basemap;
  if (base) document.getElementById('legend-base').textContent = 'base: the configured basemap, the covered box and (zoom ≥ 13) cell outlines';
  const map = new maplibregl.Map({
    container: 'map',
    // The view is kept in the address (#zoom/lat/lon): a link shows the same place.
    hash: true,
    bounds: [[west, south], [east, north]],
    fitBoundsOptions: { padding: 40 },
    attributionControl: { compact: true, customAttribution: tj.attribution },
    style: {
      version: 8,
      sources: {
        ...(base ? { basemap: { type: 'raster', tiles: base.tiles, tileSize: 256, attribution: base.attribution } } : {}),
        graticule: { type: 'geojson', data: graticule },
        coverage: { type: 'geojson', data: box },
        cells: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
        nowcast: { type: 'raster', tiles: [tileUrl()], tileSize: 256, minzoom: 0, maxzoom: tj.maxzoom, bounds: tj.bounds },
        picked: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#f4f4f0' } },
        ...(base ? [{ id: 'basemap', type: 'raster', source: 'basemap' }] : [{ id: 'graticule', type: 'line', source: 'graticule', paint: { 'line-color': '#d8d8d0', 'line-width': 0.6 } }]),
        { id: 'nowcast', type: 'raster', source: 'nowcast', paint: { 'raster-opacity': base ? 0.7 : 0.85, 'raster-resampling': 'nearest', 'raster-fade-duration': 0 } },
        { id: 'cells', type: 'line', source: 'cells', minzoom: 13, paint: { 'line-color': '#555', 'line-width': 0.4, 'line-opacity': 0.6 } },
        { id: 'coverage', type: 'line', source: 'coverage', paint: { 'line-color': '#333', 'line-width': 1.2, 'line-dasharray': [3, 2] } },
        { id: 'picked', type: 'circle', source: 'picked', paint: { 'circle-radius': 6, 'circle-color': '#111', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
      ],
    },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
  // "Here": the browser's position (asked for on a click only), its forecast in the panel.
  const here = new maplibregl.GeolocateControl({ positionOptions: { enableHighAccuracy: false, timeout: 10000 }, trackUserLocation: false, showAccuracyCircle: true, fitBoundsOptions: { maxZoom: 14 } });
  map.addControl(here, 'bottom-right');
  here.on('geolocate', (e) => {
    lastClick = { lng: e.coords.longitude, lat: e.coords.latitude };
    void showForecast(lastClick);
  });
  window.nowcastMap = map;

  const runLabel = document.getElementById('run');
  const leadLabel = document.getElementById('lead-label');
  const hhmm = (iso) => new Date(iso).toISOString().slice(11, 16);
  const showRun = () => {
    runLabel.textContent = run ? `run ${hhmm(run)} UTC` : 'no nowcast yet';
    leadLabel.textContent = lead === 0 ? 'now' : `+${lead} min${run ? ` (${hhmm(new Date(Date.parse(run) + lead * 60000).toISOString())} UTC)` : ''}`;
  };
  showRun();

  const refreshTiles = () => map.getSource('nowcast').setTiles([tileUrl()]);
  document.getElementById('lead').addEventListener('input', (e) => {
    lead = Number(e.target.value);
    showRun();
    showLegend();
    refreshTiles();
    if (lastClick) void showForecast(lastClick);
  });
  document.getElementById('layer').addEventListener('change', (e) => {
    layer = e.target.value;
    showLegend();
    refreshTiles();
  });

  // A new run: new tiles.
  setInterval(async () => {
    const t = await fetch('/tiles.json').then((r) => r.json(), () => null);
    if (t && t.run_time !== run) {
      run = t.run_time;
      medians = t.difference_medians_c;
      showRun();
      showLegend();
      refreshTiles();
    }
  }, 15000);

  // The cells' outlines of the view, from zoom 13 (also for a link that opens there).
  const loadOutlines = async () => {
    if (map.getZoom() < 13) return;
    const b = map.getBounds();
    // Outlines only: the lead does not change them, so one URL per view (and the browser's cache).
    const r = await fetch(`/v1/cells?bbox=${b.getWest()},${b.getSouth()},${b.getEast()},${b.getNorth()}`).catch(() => null);
    if (r && r.ok) map.getSource('cells').setData(await r.json());
  };
  map.on('moveend', loadOutlines);

  map.on('click', (e) => {
    lastClick = e.lngLat;
    void showForecast(e.lngLat);
  });
  document.getElementById('close').addEventListener('click', () => {
    document.getElementById('panel').hidden = true;
    lastClick = null;
  });

  async function showForecast(p) {
    map.getSource('picked').setData({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [p.lng, p.lat] } });
    const panel = document.getElementById('panel');
    panel.hidden = false;
    const title = document.getElementById('panel-title');
    const chart = document.getElementById('chart');
    const sources = document.getElementById('sources');
    title.textContent = `${p.lat.toFixed(4)}, ${p.lng.toFixed(4)}`;
    const r = await fetch(`/v1/forecast?latitude=${p.lat.toFixed(5)}&longitude=${p.lng.toFixed(5)}&minutely_5=temperature_2m&current=temperature_2m`);
    const f = await r.json();
    if (!r.ok) {
      chart.textContent = f.reason || `error ${r.status}`;
      sources.textContent = '';
      return;
    }
    chart.replaceChildren(drawChart(f.minutely_5, lead));
    const rows = [
      ['now', `${f.current.temperature_2m} ± ${f.current.temperature_2m_sigma} °C`],
      ['cell', f.cell],
      ['method', f.method],
      ['readings used', String(f.observations_in_cell)],
      ['newest reading', f.newest_observation ? `${Math.round(f.newest_observation_age_s / 60)} min before the run` : 'none in this cell'],
      ['run', `${f.run_time}${f.stale ? ' (stale)' : ''}`],
    ];
    if (f.batch_status) rows.push(['batches', `failing: ${f.batch_status.reason}`]);
    sources.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      if (k === 'batches' || (k === 'run' && f.stale)) dd.className = 'warn';
      return [dt, dd];
    }));
  }

  // The next hour in 5-minute steps with its ±1 sigma band, as SVG.
  function drawChart(m, leadMin) {
    const NS = 'http://www.w3.org/2000/svg';
    const W = 360, H = 180, L = 36, R = 8, T = 10, B = 24;
    const t = m.temperature_2m, s = m.temperature_2m_sigma;
    const lo = Math.min(...t.map((v, i) => v - s[i])), hi = Math.max(...t.map((v, i) => v + s[i]));
    const pad = (hi - lo) * 0.08 || 0.5;
    const y = (v) => T + (H - T - B) * (1 - (v - (lo - pad)) / (hi - lo + 2 * pad));
    const x = (i) => L + ((W - L - R) * i) / (t.length - 1);
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'temperature over the next hour with its uncertainty');
    const el = (name, attrs) => {
      const e = document.createElementNS(NS, name);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      svg.appendChild(e);
      return e;
    };
    const upper = t.map((v, i) => `${x(i)},${y(v + s[i])}`);
    const lower = t.map((v, i) => `${x(i)},${y(v - s[i])}`).reverse();
    el('path', { class: 'band', d: `M${upper.join('L')}L${lower.join('L')}Z`, fill: '#74add1', 'fill-opacity': 0.35, stroke: 'none' });
    el('path', { class: 'line', d: `M${t.map((v, i) => `${x(i)},${y(v)}`).join('L')}`, fill: 'none', stroke: '#313695', 'stroke-width': 2 });
    const k = Math.round(leadMin / 5);
    el('line', { x1: x(k), x2: x(k), y1: T, y2: H - B, stroke: '#a50026', 'stroke-dasharray': '3 2' });
    for (const v of [lo, (lo + hi) / 2, hi]) {
      el('line', { x1: L - 3, x2: L, y1: y(v), y2: y(v), stroke: '#888' });
      el('text', { x: L - 5, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 10 }).textContent = v.toFixed(1);
    }
    for (const i of [0, 6, 12]) el('text', { x: x(i), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === 12 ? 'end' : 'middle', 'font-size': 10 }).textContent = m.time[i].slice(11, 16);
    return svg;
  }

  map.on('load', () => {
    void loadOutlines();
    document.body.dataset.ready = '1';
  });
})();
