import Foundation
import Recording

/// `latency_heatmap_*.png`: per benchmark (rows, in the order they ran) and architecture (columns,
/// the baseline left), the share of each window's responses in each power-of-two latency bucket
/// over time, so that a pause, a slow round or a bimodal tail shows where it happened.
public enum LatencyHeatmap {
    public static func png(_ results: SuiteResults) throws -> Data {
        let layout = Layout(results)
        let canvas = try CairoCanvas(width: layout.width, height: layout.height)
        draw(layout, results, on: canvas)
        return try canvas.png()
    }

    /// A rectangle in pixels, y downwards.
    public struct Rect: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double

        public init(x: Double, y: Double, width: Double, height: Double) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
        }

        public var maxX: Double { x + width }
        public var maxY: Double { y + height }
        public var midX: Double { x + width / 2 }
        public var midY: Double { y + height / 2 }
    }

    /// One architecture's windows of one benchmark, its rounds back to back.
    ///
    /// The rounds of the two architectures alternate in time, so on a wall-clock axis half of each
    /// panel would be the other architecture's turn; back to back, each panel spends its whole width
    /// on its own data and both columns of a row share one seconds-per-pixel scale. A separator marks
    /// where each round starts.
    public struct Series: Sendable {
        /// Responses by bucket of each time column; nil where no window fell.
        public var columns: [[UInt64]?]
        /// Where rounds 2, 3 … start on the timeline, in seconds.
        public var roundStarts: [Double]

        /// The buckets that hold a response.
        var buckets: ClosedRange<Int>? {
            var low = Int.max, high = Int.min
            for column in columns {
                for (bucket, count) in (column ?? []).enumerated() where count > 0 {
                    low = min(low, bucket)
                    high = max(high, bucket)
                }
            }
            return low <= high ? low...high : nil
        }
    }

    /// One panel: where it is drawn and the scales that place a cell in it.
    public struct Panel: Sendable {
        public var benchmark: String
        public var architecture: String
        public var series: Series
        /// The cells' area, without the axes.
        public var plot: Rect
        /// The buckets both panels of the row show (nil when neither has a response).
        public var buckets: ClosedRange<Int>?
        /// Seconds per column.
        public var columnS: Double
        /// The seconds the row's x axis spans.
        public var spanS: Double

        var pixelsPerS: Double { plot.width / spanS }
        var bucketHeight: Double { plot.height / Double(buckets?.count ?? 1) }

        public func x(seconds: Double) -> Double { plot.x + seconds * pixelsPerS }

        /// The y of the lower edge of `bucket`; `bucket` one past the top gives the plot's top.
        public func y(bucketFloor bucket: Int) -> Double {
            plot.maxY - Double(bucket - (buckets?.lowerBound ?? 0)) * bucketHeight
        }

        /// The pixels of the cell holding the responses `seconds` into the timeline that took
        /// `bucket`'s latency (edges rounded to whole pixels, as drawn); nil outside the panel.
        public func cell(seconds: Double, bucket: Int) -> Rect? {
            guard seconds >= 0, seconds < spanS else { return nil }
            return cell(column: Int(seconds / columnS), bucket: bucket)
        }

        func cell(column: Int, bucket: Int) -> Rect? {
            guard let buckets, buckets.contains(bucket) else { return nil }
            let left = x(seconds: Double(column) * columnS).rounded()
            let right = min(x(seconds: Double(column + 1) * columnS), plot.maxX).rounded()
            let top = y(bucketFloor: bucket + 1).rounded()
            let bottom = y(bucketFloor: bucket).rounded()
            return Rect(x: left, y: top, width: right - left, height: bottom - top)
        }
    }

    /// The whole image's geometry, from the results alone; the tests find cells through it.
    public struct Layout: Sendable {
        public var width: Int
        public var height: Int
        /// A row per benchmark, a panel per architecture.
        public var rows: [[Panel]]

        static let margin = 24.0
        static let header = 92.0
        static let axisWidth = 84.0
        static let plotWidth = 500.0
        static let plotHeight = 200.0
        static let above = 36.0
        static let below = 44.0
        static let rowGap = 18.0
        static let columnGap = 28.0
        static let legendWidth = 150.0
        /// The narrowest column drawn: below it, neighbouring windows are merged.
        static let minimumColumnPixels = 2.0

        public init(_ results: SuiteResults) {
            let architectures = LatencyHeatmap.architectures(results)
            let windowNs = results.loadWindowNs
            rows = LatencyHeatmap.benchmarks(results).enumerated().map { row, benchmark in
                // Merge windows where the row would otherwise draw columns too thin to see.
                let raw = architectures.map { series(results, benchmark, $0, columnNs: windowNs) }
                let widest = Double(raw.map(\.columns.count).max() ?? 0)
                let merge = UInt64(max(1, (widest * Self.minimumColumnPixels / Self.plotWidth).rounded(.up)))
                let all = merge == 1 ? raw : architectures.map { series(results, benchmark, $0, columnNs: windowNs * merge) }
                let columnS = Double(windowNs * merge) / 1e9
                let span = max(Double(all.map(\.columns.count).max() ?? 0), 1) * columnS
                let buckets = all.compactMap(\.buckets).reduce(nil as ClosedRange<Int>?) { union, next in
                    union.map { min($0.lowerBound, next.lowerBound)...max($0.upperBound, next.upperBound) } ?? next
                }
                return zip(architectures, all).enumerated().map { column, pair in
                    let plot = Rect(x: Self.margin + Self.axisWidth + Double(column) * (Self.axisWidth + Self.plotWidth + Self.columnGap),
                                    y: Self.header + Double(row) * Self.rowHeight + Self.above,
                                    width: Self.plotWidth, height: Self.plotHeight)
                    return Panel(benchmark: benchmark, architecture: pair.0, series: pair.1, plot: plot, buckets: buckets,
                                 columnS: columnS, spanS: span)
                }
            }
            let panelsWide = Double(max(architectures.count, 1))
            width = Int(Self.margin * 2 + panelsWide * (Self.axisWidth + Self.plotWidth + Self.columnGap) + Self.legendWidth)
            height = Self.anyWindow(rows) ? Int(Self.header + Double(rows.count) * Self.rowHeight - Self.rowGap + Self.margin) : 180
        }

        static var rowHeight: Double { above + plotHeight + below + rowGap }

        var hasWindows: Bool { Self.anyWindow(rows) }

        static func anyWindow(_ rows: [[Panel]]) -> Bool { rows.contains { $0.contains { $0.series.columns.contains { $0 != nil } } } }

        public func panel(benchmark: String, architecture: String) -> Panel? {
            rows.joined().first { $0.benchmark == benchmark && $0.architecture == architecture }
        }

        var legend: Rect {
            let x = rows.first?.last.map { $0.plot.maxX + Self.columnGap } ?? Self.margin
            return Rect(x: x, y: Self.header + Self.above, width: Self.legendWidth, height: Self.plotHeight)
        }
    }

    // MARK: - From the results

    static func architectures(_ results: SuiteResults) -> [String] {
        var names = results.architectures
        if names.isEmpty { names = [results.baseline, results.candidate].filter { !$0.isEmpty } }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// In the order their first rounds ran, then any that only the per-architecture results name.
    static func benchmarks(_ results: SuiteResults) -> [String] {
        var seen = Set<String>()
        let ran = results.rounds.map(\.benchmark).filter { seen.insert($0).inserted }
        let others = results.results.values.flatMap(\.keys).filter { seen.insert($0).inserted }.sorted()
        return ran + others
    }

    /// Each round starts on a column boundary, so that no column mixes two rounds; the timeline runs
    /// up to a column longer per round than the rounds took.
    static func series(_ results: SuiteResults, _ benchmark: String, _ architecture: String, columnNs: UInt64) -> Series {
        var columns: [[UInt64]?] = []
        var starts: [Double] = []
        var firstRound = true
        for round in results.rounds where round.benchmark == benchmark && round.architecture == architecture {
            let first = columns.count
            // Nanoseconds, not seconds: windows start whole periods apart, and a rounding error would
            // put one in its neighbour's column.
            if !firstRound { starts.append(Double(UInt64(first) * columnNs) / 1e9) }
            firstRound = false
            // A day at most, and windows outside their round ignored: a damaged file cannot ask for
            // billions of columns.
            let lengthNs = min(round.endNs > round.startNs ? round.endNs - round.startNs : 0, Self.longestRoundNs)
            // A round a hair over whole columns takes no column of its own for that hair.
            var end = first + Int((lengthNs + columnNs - 1 - min(columnNs / 100, lengthNs)) / columnNs)
            for load in round.result?.loads ?? [] {
                for window in load.windows where window.startNs <= round.startNs || window.startNs - round.startNs < lengthNs + columnNs {
                    let atNs = window.startNs > round.startNs ? window.startNs - round.startNs : 0
                    let column = first + Int(atNs / columnNs)
                    end = max(end, column + 1)
                    if columns.count <= column { columns += Array(repeating: nil, count: column + 1 - columns.count) }
                    var counts = columns[column] ?? []
                    let buckets = window.log2Counts.prefix(maxBucket + 1)
                    if counts.count < buckets.count { counts += Array(repeating: 0, count: buckets.count - counts.count) }
                    for (bucket, count) in buckets.enumerated() {
                        let sum = counts[bucket].addingReportingOverflow(UInt64(count))
                        counts[bucket] = sum.overflow ? .max : sum.partialValue
                    }
                    columns[column] = counts
                }
            }
            if columns.count < end { columns += Array(repeating: nil, count: end - columns.count) }
        }
        return Series(columns: columns, roundStarts: starts)
    }

    static let longestRoundNs: UInt64 = 86_400 * 1_000_000_000

    /// 2^maxBucket µs is beyond any latency a run can record, and keeps 2^(i+1) within an Int.
    static let maxBucket = 40

    // MARK: - Colour

    /// Viridis (matplotlib's, perceptually uniform and readable in grey), by nine anchors.
    static let viridis: [RGB] = [0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725]
        .map { RGB(hex: $0) }

    /// The least share the scale tells apart: a log scale, because the tail that matters holds a
    /// small share of a window's responses and would vanish on a linear one.
    static let leastShare = 0.001

    /// The colour of a cell holding `share` (0 < share ≤ 1) of its window's responses.
    static func color(share: Double) -> RGB {
        let position = min(max((log10(share) - log10(leastShare)) / -log10(leastShare), 0), 1)
        let scaled = position * Double(viridis.count - 1)
        let index = min(Int(scaled), viridis.count - 2)
        return viridis[index].mixed(with: viridis[index + 1], scaled - Double(index))
    }

    /// A window with responses, none of them in this bucket.
    static let emptyCell = RGB.white
    /// No window, or a window without responses (a gap between loads, a failed round).
    static let noResponses = RGB(hex: 0xd4d4d4)
    static let separator = RGB(hex: 0xe8194b)
    static let frame = RGB(hex: 0x808080)
    static let faint = RGB(hex: 0x666666)

    // MARK: - Text

    /// Names come from the results file: kept short enough not to run into the next panel.
    static func bounded(_ text: String, _ limit: Int = 40) -> String {
        text.count <= limit ? text : text.prefix(limit - 1) + "…"
    }

    /// The lower edge of `bucket`, named as a power of two of the nearest unit (1 ms is 1024 µs) so
    /// that every label is a bucket boundary; bucket 0 also holds everything under 2 µs.
    static func latencyLabel(_ bucket: Int) -> String {
        if bucket == 0 { return "0" }
        if bucket < 10 { return "\(1 << bucket) µs" }
        if bucket < 20 { return "\(1 << (bucket - 10)) ms" }
        return "\(1 << (bucket - 20)) s"
    }

    static func secondsLabel(_ seconds: Double) -> String {
        String(format: "%g", (seconds * 1000).rounded() / 1000)
    }

    static func durationLabel(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%g ms", (seconds * 1e4).rounded() / 10) : String(format: "%g s", seconds)
    }

    /// A tick every 1, 2 or 5 × 10^k seconds, at most `most` of them.
    static func tickStep(span: Double, most: Int = 8) -> Double {
        var step = 0.001
        while span / step > Double(most) {
            let digits = step / pow(10, floor(log10(step)) )
            step *= digits.rounded() == 2 ? 2.5 : 2
        }
        return step
    }

    // MARK: - Drawing

    static func draw(_ layout: Layout, _ results: SuiteResults, on canvas: CairoCanvas) {
        canvas.fill(Rect(x: 0, y: 0, width: Double(layout.width), height: Double(layout.height)), .white)
        let margin = Layout.margin
        canvas.font(size: 20, bold: true)
        canvas.text("Latency heatmap — run \(bounded(results.timestamp)), workload \(bounded(results.workload))", x: margin, y: 36)
        guard layout.hasWindows else {
            canvas.font(size: 16)
            canvas.text("no latency windows recorded", x: Double(layout.width) / 2, y: 110, align: .center, faint)
            return
        }
        canvas.font(size: 12.5)
        let names = architectures(results).map { bounded($0) }.joined(separator: ", ")
        canvas.text("A column per architecture (\(names)), a row per benchmark in the order they ran.",
                    x: margin, y: 60, faint)
        canvas.text("x: seconds of that architecture's rounds of the benchmark, back to back (a red line where a round starts). "
                    + "y: latency, by power of two. Colour: share of the column's responses in that latency.",
                    x: margin, y: 78, faint)
        for row in layout.rows {
            for panel in row { draw(panel, results, on: canvas) }
        }
        drawLegend(layout.legend, on: canvas)
    }

    static func draw(_ panel: Panel, _ results: SuiteResults, on canvas: CairoCanvas) {
        let plot = panel.plot
        let role = panel.architecture == results.baseline ? " (baseline)" : panel.architecture == results.candidate ? " (candidate)" : ""
        canvas.font(size: 13, bold: true)
        canvas.text("\(bounded(panel.benchmark)) — \(bounded(panel.architecture))\(role)", x: plot.x, y: plot.y - 20)
        canvas.fill(plot, noResponses)
        guard let buckets = panel.buckets, panel.series.columns.contains(where: { $0 != nil }) else {
            canvas.font(size: 13)
            canvas.text("no latency windows recorded", x: plot.midX, y: plot.midY, align: .center, faint)
            canvas.stroke(plot, frame)
            return
        }
        for (column, counts) in panel.series.columns.enumerated() {
            guard let counts else { continue }
            let total = counts.reduce(0, +)
            guard total > 0, let low = panel.cell(column: column, bucket: buckets.lowerBound),
                  let high = panel.cell(column: column, bucket: buckets.upperBound) else { continue }
            canvas.fill(Rect(x: low.x, y: high.y, width: low.width, height: low.maxY - high.y), emptyCell)
            for (bucket, count) in counts.enumerated() where count > 0 {
                guard let cell = panel.cell(column: column, bucket: bucket) else { continue }
                canvas.fill(cell, color(share: Double(count) / Double(total)))
            }
        }
        drawRounds(panel, on: canvas)
        canvas.stroke(plot, frame)
        drawLatencyAxis(panel, buckets, on: canvas)
        drawTimeAxis(panel, on: canvas)
    }

    static func drawRounds(_ panel: Panel, on canvas: CairoCanvas) {
        let plot = panel.plot
        let edges = [0] + panel.series.roundStarts + [Double(panel.series.columns.count) * panel.columnS]
        canvas.font(size: 10)
        for (index, (start, end)) in zip(edges, edges.dropFirst()).enumerated() {
            let left = panel.x(seconds: start).rounded(), right = panel.x(seconds: end).rounded()
            if index > 0 { canvas.line(left + 0.5, plot.y, left + 0.5, plot.maxY, separator, width: 1) }
            let label = right - left >= 60 ? "round \(index + 1)" : "\(index + 1)"
            if right - left >= canvas.textWidth(label) + 4 {
                canvas.text(label, x: left + 3, y: plot.y - 5, faint)
            }
        }
    }

    static func drawLatencyAxis(_ panel: Panel, _ buckets: ClosedRange<Int>, on canvas: CairoCanvas) {
        let plot = panel.plot
        canvas.font(size: 11)
        // Every boundary when the buckets are tall enough for a label each, else every other (or fewer).
        let every = Int((14 / panel.bucketHeight).rounded(.up))
        for boundary in stride(from: buckets.lowerBound, through: buckets.upperBound + 1, by: max(every, 1)) {
            let y = panel.y(bucketFloor: boundary).rounded()
            canvas.line(plot.x - 5, y + 0.5, plot.x, y + 0.5, frame)
            canvas.text(latencyLabel(boundary), x: plot.x - 8, y: y + 4, align: .right)
        }
        canvas.font(size: 12)
        canvas.text("latency", x: plot.x - Layout.axisWidth + 14, y: plot.midY, align: .center, rotated: true)
    }

    static func drawTimeAxis(_ panel: Panel, on canvas: CairoCanvas) {
        let plot = panel.plot
        let step = tickStep(span: panel.spanS)
        canvas.font(size: 11)
        var seconds = 0.0
        while seconds <= panel.spanS + step / 1000 {
            let x = panel.x(seconds: seconds).rounded()
            canvas.line(x + 0.5, plot.maxY, x + 0.5, plot.maxY + 5, frame)
            canvas.text(secondsLabel(seconds), x: min(x, plot.maxX - 8), y: plot.maxY + 17, align: .center)
            seconds += step
        }
        canvas.font(size: 12)
        canvas.text("time (s), columns of \(durationLabel(panel.columnS))", x: plot.midX, y: plot.maxY + 36, align: .center)
    }

    static func drawLegend(_ area: Rect, on canvas: CairoCanvas) {
        canvas.font(size: 11, bold: true)
        canvas.text("share of the column's", x: area.x, y: area.y - 20)
        canvas.text("responses in a bucket", x: area.x, y: area.y - 6)
        let bar = Rect(x: area.x, y: area.y + 6, width: 18, height: 150)
        let steps = Int(bar.height)
        for step in 0..<steps {
            // Top is the full share; each pixel row is the share at its middle, on the log scale.
            let position = 1 - (Double(step) + 0.5) / Double(steps)
            let share = pow(10, log10(leastShare) * (1 - position))
            canvas.fill(Rect(x: bar.x, y: bar.y + Double(step), width: bar.width, height: 1), color(share: share))
        }
        canvas.stroke(bar, frame)
        canvas.font(size: 11)
        var share = 1.0
        while share >= leastShare * 0.999 {
            let y = (bar.maxY - (log10(share) - log10(leastShare)) / -log10(leastShare) * bar.height).rounded()
            canvas.line(bar.maxX, y + 0.5, bar.maxX + 4, y + 0.5, frame)
            let label = share == 1 ? "100%" : share >= 0.01 ? "\(Int((share * 100).rounded()))%" : String(format: "≤ %g%%", share * 100)
            canvas.text(label, x: bar.maxX + 7, y: y + 4)
            share /= 10
        }
        var y = bar.maxY + 26
        for (swatch, label) in [(emptyCell, "none in the bucket"), (noResponses, "no responses")] {
            let box = Rect(x: area.x, y: y - 11, width: 18, height: 14)
            canvas.fill(box, swatch)
            canvas.stroke(box, frame)
            canvas.text(label, x: box.maxX + 7, y: y)
            y += 22
        }
        canvas.line(area.x + 9.5, y - 12, area.x + 9.5, y + 3, separator)
        canvas.text("a round starts", x: area.x + 25, y: y)
    }
}
