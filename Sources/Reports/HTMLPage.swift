import Foundation

/// What the two HTML reports share: escaping, the page shell, and charts described as data.
///
/// Names in a results file (benchmarks, endpoints, processes, architectures, custom sections) come
/// from configs and from the kernel, so no name may become markup or script: text goes into the
/// HTML escaped, and chart data goes into one JSON block that the page script reads with
/// JSON.parse and shows only through Chart.js (canvas) or textContent.
enum HTML {
    /// `s` as HTML text or a quoted attribute value: the XML escaper serves both (`&apos;` is HTML5's
    /// too), and the control characters it drops have no business in a page either.
    static func text(_ s: String) -> String { JUnitReport.escape(s) }

    static func attribute(_ s: String) -> String { text(s) }

    /// `value` as JSON that can sit inside a `<script>` element: `<`, `>` and `&` only occur inside
    /// JSON strings, so writing them as \u escapes keeps the JSON's meaning while no `</script>` or
    /// `<!--` can end the element early; U+2028/2029 are escaped for older JavaScript parsers.
    static func scriptJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(value), as: UTF8.self)
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for scalar in json.unicodeScalars {
            switch scalar {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A table of plain-text cells; `classes[row][column]` styles a cell (a verdict's colour).
    static func table(_ header: [String], _ rows: [[String]], classes: [[String]] = []) -> String {
        var out = "<div class=\"tablewrap\"><table><thead><tr>"
        out += header.map { "<th>\(text($0))</th>" }.joined()
        out += "</tr></thead><tbody>"
        for (r, row) in rows.enumerated() {
            out += "<tr>"
            for (c, cell) in row.enumerated() {
                let cls = r < classes.count && c < classes[r].count ? classes[r][c] : ""
                out += cls.isEmpty ? "<td>" : "<td class=\"\(attribute(cls))\">"
                out += text(cell) + "</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table></div>"
    }

    /// Chart.js, decoded once from the base64 the build embedded.
    static let chartJS: String? = {
        guard let data = Data(base64Encoded: chartJSBase64, options: .ignoreUnknownCharacters) else { return nil }
        // The library is Debian's, but a `</script` inside it would still end the element.
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</script", with: "<\\/script")
    }()

    /// A whole page: `body` is markup already escaped; `charts` are drawn into the canvases whose
    /// ids they name.
    static func page(title: String, body: String, charts: [PageChart]) throws -> String {
        let data = try scriptJSON(PageData(charts: charts))
        guard let chartJS else { throw ReportError.damagedBuild("embedded Chart.js is not valid base64") }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(text(title))</title>
        <script>\(errorTrap)</script>
        <style>\(css)</style>
        </head><body>
        \(body)
        <script type="application/json" id="data">\(data)</script>
        <script>/* Chart.js \(text(chartJSVersion)) (MIT) */
        \(chartJS)</script>
        <script>\(pageScript)</script>
        </body></html>

        """
    }

    private struct PageData: Encodable {
        var charts: [PageChart]
    }

    // The browser check reads `data-errors`: an exception anywhere, including inside Chart.js, is
    // recorded on the page itself as well as on the console.
    private static let errorTrap = """
    window.addEventListener('error', function (e) { var b = document.documentElement; \
    b.setAttribute('data-errors', (b.getAttribute('data-errors') || '') + (e.message || 'error') + ';'); });
    """

    private static let css = """
    body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:16px 24px;color:#1f2328;background:#fff}
    h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
    h3{font-size:15px;margin:16px 0 6px}.meta{color:#57606a;margin:0 0 12px}
    .verdict{display:grid;grid-template-columns:auto 1fr;gap:4px 16px;padding:12px 16px;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa}
    .rating{grid-row:span 4;font-size:28px;font-weight:700;align-self:center;padding:0 8px}
    .EXCELLENT,.GOOD,.pass{color:#1a7f37}.FAIR,.warning{color:#9a6700}.POOR,.critical,.yes{color:#cf222e;font-weight:600}
    nav{margin:12px 0;padding:8px 0;display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center}
    nav label{white-space:nowrap;cursor:pointer}
    .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px 24px}
    .chart{position:relative;height:280px}.card h4{margin:8px 0 2px;font-size:13px;font-weight:600}
    .hint{color:#57606a;font-size:12px}
    .zoombox{position:absolute;background:rgba(9,105,218,.15);border:1px solid rgba(9,105,218,.5);pointer-events:none}
    .tablewrap{overflow-x:auto}table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
    th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
    td.num{text-align:right;font-variant-numeric:tabular-nums}.empty{color:#57606a;font-style:italic}
    """

    /// Reads the data block, draws each chart, wires the zoom and the benchmark selector, and
    /// records on <html> how many charts there are and how many drew something (the browser check).
    private static let pageScript = #"""
    (function () {
      'use strict';
      var data = JSON.parse(document.getElementById('data').textContent);
      var palette = ['#0969da', '#e16f24', '#1a7f37', '#8250df', '#cf222e', '#bf8700', '#1b7c83', '#6e7781', '#d63384', '#5a32a3'];
      var pct = {1: '0%', 2: '50%', 10: '90%', 100: '99%', 1000: '99.9%', 10000: '99.99%', 100000: '99.999%'};
      function color(i, alpha) {
        var c = palette[i % palette.length];
        if (alpha === undefined) return c;
        var n = parseInt(c.slice(1), 16);
        return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + alpha + ')';
      }
      function fmt(v) {
        if (!isFinite(v)) return String(v);
        var a = Math.abs(v);
        return a >= 1e6 || (a > 0 && a < 1e-3) ? v.toExponential(3) : a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toFixed(4);
      }
      function dataset(s) {
        var d = {label: s.label, borderColor: color(s.color), backgroundColor: color(s.color, 0.7), borderWidth: 1.5,
                 pointRadius: 0, pointHitRadius: 6, tension: 0};
        if (s.values) d.data = s.values; else d.data = s.points.map(function (p) { return {x: p[0], y: p[1]}; });
        if (s.axis) d.yAxisID = s.axis;
        if (s.stack) d.stack = s.stack;
        switch (s.style) {
          case 'step': d.stepped = true; break;
          case 'points': d.showLine = false; d.pointRadius = 3; break;
          case 'dots': d.pointRadius = 2.5; break;
          case 'trend': d.borderDash = [6, 4]; d.borderWidth = 2; break;
          case 'band': d.borderWidth = 0; d.backgroundColor = color(s.color, 0.15); d.fill = '-1'; break;
          case 'bandlow': d.borderWidth = 0; break;
          case 'marker': d.showLine = false; d.pointRadius = 5; d.pointStyle = 'crossRot'; d.borderWidth = 2; break;
          case 'knee': d.borderDash = [3, 3]; d.borderWidth = 2; d.pointRadius = 0; break;
        }
        if (s.style === 'bandlow' || s.style === 'band') d.label = s.label;
        return d;
      }
      function axis(title, log, extra) {
        var a = {type: log ? 'logarithmic' : 'linear', title: {display: !!title, text: title}};
        for (var k in extra) a[k] = extra[k];
        return a;
      }
      // Debian packages no chartjs-plugin-zoom and the page may fetch nothing, so drag-to-zoom on
      // the x axis is done here: a drag sets the axis range, a double click restores it.
      function zoomable(chart) {
        var canvas = chart.canvas, box = document.createElement('div'), start = null;
        box.className = 'zoombox'; box.hidden = true; canvas.parentNode.appendChild(box);
        function clamp(x) { var a = chart.chartArea; return Math.max(a.left, Math.min(a.right, x)); }
        canvas.addEventListener('mousedown', function (e) {
          var a = chart.chartArea;
          if (e.offsetX < a.left || e.offsetX > a.right) return;
          start = e.offsetX;
          box.style.left = start + 'px'; box.style.width = '0px';
          box.style.top = a.top + 'px'; box.style.height = (a.bottom - a.top) + 'px'; box.hidden = false;
        });
        canvas.addEventListener('mousemove', function (e) {
          if (start === null) return;
          var x = clamp(e.offsetX);
          box.style.left = Math.min(x, start) + 'px'; box.style.width = Math.abs(x - start) + 'px';
        });
        window.addEventListener('mouseup', function (e) {
          if (start === null) return;
          var x = clamp(e.clientX - canvas.getBoundingClientRect().left), s = start;
          start = null; box.hidden = true;
          if (Math.abs(x - s) < 4) return;
          chart.options.scales.x.min = chart.scales.x.getValueForPixel(Math.min(x, s));
          chart.options.scales.x.max = chart.scales.x.getValueForPixel(Math.max(x, s));
          chart.update();
        });
        canvas.addEventListener('dblclick', function () {
          delete chart.options.scales.x.min; delete chart.options.scales.x.max; chart.update();
        });
      }
      var charts = [];
      data.charts.forEach(function (spec) {
        var canvas = document.getElementById(spec.id);
        if (!canvas) return;
        var scales = {};
        if (spec.labels) {
          scales.x = {type: 'category', stacked: !!spec.stacked, title: {display: !!spec.xLabel, text: spec.xLabel}};
        } else {
          var xticks = spec.percentileAxis ? {autoSkip: false, maxRotation: 0, callback: function (v) { return pct[v] || ''; }} : {};
          scales.x = axis(spec.xLabel, spec.xLog, {ticks: xticks});
        }
        scales.y = axis(spec.yLabel, spec.yLog, {stacked: !!spec.stacked, beginAtZero: !spec.yLog && spec.kind === 'bar'});
        if (spec.y2Label) scales.y2 = axis(spec.y2Label, spec.y2Log, {position: 'right', grid: {drawOnChartArea: false}});
        var tooltip = {callbacks: {label: function (item) {
          var v = item.parsed.y;
          return item.dataset.label + ': ' + fmt(v) + (spec.unit ? ' ' + spec.unit : '');
        }}};
        if (spec.percentileAxis) tooltip.callbacks.title = function (items) {
          return items.length ? 'P' + fmt(100 * (1 - 1 / items[0].parsed.x)) : '';
        };
        var chart = new Chart(canvas, {
          type: spec.kind,
          data: {labels: spec.labels || undefined, datasets: spec.datasets.map(dataset)},
          options: {
            animation: false, responsive: true, maintainAspectRatio: false, parsing: spec.labels ? undefined : false,
            interaction: {mode: spec.labels ? 'index' : 'nearest', intersect: false},
            plugins: {legend: {position: 'bottom', labels: {boxWidth: 12, filter: function (l) { return l.text !== ''; }}},
                      tooltip: tooltip},
            scales: scales
          }
        });
        if (spec.zoom) zoomable(chart);
        charts.push(chart);
      });
      // A chart drew when its canvas has pixels and one of its datasets has a point to show.
      var drawn = charts.filter(function (chart) {
        var has = chart.data.datasets.some(function (d, i) { return chart.getDatasetMeta(i).data.length > 0; });
        if (!has || !chart.canvas.width || !chart.canvas.height) return false;
        var px = chart.ctx.getImageData(0, 0, chart.canvas.width, chart.canvas.height).data;
        for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
        return false;
      }).length;
      var root = document.documentElement;
      root.setAttribute('data-charts', String(charts.length));
      root.setAttribute('data-drawn', String(drawn));
      root.setAttribute('data-rects', charts.map(function (c) {
        var r = c.canvas.getBoundingClientRect();
        return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height].map(Math.round).join(',');
      }).join(';'));
      document.querySelectorAll('nav input[data-bench]').forEach(function (box) {
        box.addEventListener('change', function () {
          var section = document.getElementById('bench-' + box.getAttribute('data-bench'));
          if (section) section.hidden = !box.checked;
        });
      });
    })();
    """#
}

/// One chart: Chart.js's type, axes and series, drawn into the canvas `id` by the page script.
struct PageChart: Encodable {
    var id: String
    /// `line`, `scatter` or `bar`.
    var kind: String
    var xLabel: String
    var yLabel: String
    var unit: String? = nil
    var xLog = false
    var yLog = false
    /// The x axis is 1/(1−p), labelled as percentiles.
    var percentileAxis = false
    var zoom = false
    var stacked = false
    var y2Label: String? = nil
    var y2Log = false
    /// Category labels (bar charts); series then carry `values`.
    var labels: [String]? = nil
    var datasets: [PageSeries]
}

/// A chart's series: points [x, y] (or bar values), a palette colour and a drawing style.
struct PageSeries: Encodable {
    var label: String
    var points: [[Double]]? = nil
    var values: [Double]? = nil
    var color: Int
    /// `step`, `points`, `dots`, `trend`, `bandlow` then `band` (fills down to the series before),
    /// `marker`, `knee`; nil for a plain line or bar.
    var style: String? = nil
    var axis: String? = nil
    var stack: String? = nil

    init(label: String, points: [(Double, Double)], color: Int, style: String? = nil, axis: String? = nil) {
        self.label = label
        self.points = points.filter { $0.0.isFinite && $0.1.isFinite }.map { [$0.0, $0.1] }
        self.color = color
        self.style = style
        self.axis = axis
    }

    init(label: String, values: [Double], color: Int, stack: String? = nil) {
        self.label = label
        self.values = values.map { $0.isFinite ? $0 : 0 }
        self.color = color
        self.stack = stack
    }
}

/// Collects a page's charts and hands out the markup of their canvases.
final class PageCharts {
    private(set) var specs: [PageChart] = []

    /// The card holding the chart: its title, a hint, and its canvas.
    func card(_ title: String, hint: String? = nil, _ make: (String) -> PageChart) -> String {
        let id = "chart\(specs.count)"
        var spec = make(id)
        spec.id = id
        specs.append(spec)
        let hintHTML = hint.map { "<div class=\"hint\">\(HTML.text($0))</div>" } ?? ""
        return "<div class=\"card\"><h4>\(HTML.text(title))</h4>\(hintHTML)"
            + "<div class=\"chart\"><canvas id=\"\(id)\" role=\"img\" aria-label=\"\(HTML.attribute(title))\"></canvas></div></div>"
    }
}

extension HTML {
    /// A figure for a table cell.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let a = abs(value)
        return String(format: a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", value)
    }
}
