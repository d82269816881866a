import Foundation

/// A hand-written SVG with two panels sharing the time axis: throughput per second on top; below, decision latency
/// p50/p99 per second (open loop, log scale) or the backlog still to decide (--max).
struct SVGChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var dashed = false
    }

    struct Panel {
        var title: String
        var yLabel: String
        var series: [Series]
        var logScale = false
    }

    let width = 960.0
    let panelHeight = 270.0
    let left = 80.0
    let right = 160.0
    let top = 40.0
    let gap = 70.0

    static func render(samples: [Sample], mode: LoadTestSettings.Mode, title: String) -> String {
        let x = samples.map { Double($0.second) }
        func series(_ name: String, _ color: String, _ value: (Sample) -> Double?, dashed: Bool = false) -> Series {
            Series(name: name, color: color, points: zip(x, samples).compactMap { xv, s in value(s).map { (xv, $0) } }, dashed: dashed)
        }
        var throughput = [series("outcomes/s", "#ff7f0e", { Double($0.outcomes) })]
        if mode == .rate {
            throughput.insert(series("published/s", "#1f77b4", { Double($0.published) }), at: 0)
            throughput.insert(series("target/s", "#999999", { $0.targetRate }, dashed: true), at: 0)
        }
        let second: Panel
        if mode == .rate {
            second = Panel(title: "Decision latency from the scheduled send time", yLabel: "ms (log scale)", series: [
                series("p50", "#2ca02c", { $0.p50Ms }),
                series("p99", "#d62728", { $0.p99Ms }),
                series("max", "#9467bd", { $0.maxMs }, dashed: true),
            ], logScale: true)
        } else {
            second = Panel(title: "Backlog not yet decided", yLabel: "transactions", series: [
                series("lag", "#d62728", { Double($0.lag) }),
            ])
        }
        let panels = [
            Panel(title: "Throughput per second", yLabel: "messages/s", series: throughput),
            second,
        ]
        let xLabel = mode == .rate ? "seconds since the start of the measurement" : "seconds since vigil serve was started"
        return SVGChart().draw(panels: panels, xMax: max(1, x.max() ?? 1), title: title, xLabel: xLabel)
    }

    func draw(panels: [Panel], xMax: Double, title: String, xLabel: String) -> String {
        let height = top + Double(panels.count) * (panelHeight + gap) + 10
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15" font-weight="bold">\(escape(title))</text>

            """
        let plotWidth = width - left - right
        let xTicks = Self.ticks(max: xMax)
        for (index, panel) in panels.enumerated() {
            let y0 = top + Double(index) * (panelHeight + gap) + 20
            let plotHeight = panelHeight - 20
            let all = panel.series.flatMap { $0.points.map(\.y) }
            let scale: (Double) -> Double
            var yTicks: [Double]
            if panel.logScale {
                let positive = all.filter { $0 > 0 }
                let lo = pow(10, floor(log10(max(0.01, positive.min() ?? 1))))
                let hi = pow(10, ceil(log10(max(lo * 10, positive.max() ?? 10))))
                scale = { v in y0 + plotHeight - (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) * plotHeight }
                yTicks = []
                var decade = lo
                while decade <= hi * 1.0001 {
                    for m in [1.0, 2, 5] where decade * m <= hi * 1.0001 { yTicks.append(decade * m) }
                    decade *= 10
                }
            } else {
                yTicks = Self.ticks(max: max(1, all.max() ?? 1))
                let top = yTicks.last ?? 1
                scale = { v in y0 + plotHeight - v / top * plotHeight }
            }
            let sx = { (v: Double) in left + v / (xTicks.last ?? xMax) * plotWidth }

            svg += "<text x=\"\(left)\" y=\"\(y0 - 8)\" font-size=\"13\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
            svg += "<rect x=\"\(left)\" y=\"\(y0)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#444\"/>\n"
            for t in yTicks {
                let y = scale(t)
                svg += "<line x1=\"\(left)\" y1=\"\(f(y))\" x2=\"\(left + plotWidth)\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>\n"
                svg += "<text x=\"\(left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.label(t))</text>\n"
            }
            for t in xTicks {
                let xv = sx(t)
                svg += "<line x1=\"\(f(xv))\" y1=\"\(y0)\" x2=\"\(f(xv))\" y2=\"\(y0 + plotHeight)\" stroke=\"#f0f0f0\"/>\n"
                svg += "<text x=\"\(f(xv))\" y=\"\(f(y0 + plotHeight + 16))\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
            }
            svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(y0 + plotHeight + 34))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
            svg += "<text transform=\"translate(\(f(left - 58)),\(f(y0 + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(panel.yLabel))</text>\n"
            for (k, series) in panel.series.enumerated() {
                if series.points.count > 1 {
                    let path = series.points.map { "\(f(sx($0.x))),\(f(scale($0.y)))" }.joined(separator: " ")
                    svg += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"1.8\"\(series.dashed ? " stroke-dasharray=\"5,4\"" : "") points=\"\(path)\"/>\n"
                } else if let p = series.points.first {
                    svg += "<circle cx=\"\(f(sx(p.x)))\" cy=\"\(f(scale(p.y)))\" r=\"3\" fill=\"\(series.color)\"/>\n"
                }
                let ly = y0 + 14 + Double(k) * 18
                let lx = left + plotWidth + 14
                svg += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly - 4))\" stroke=\"\(series.color)\" stroke-width=\"2\"\(series.dashed ? " stroke-dasharray=\"5,4\"" : "")/>\n"
                svg += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly))\">\(escape(series.name))</text>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }

    /// Round tick values from 0 past `max` (steps of 1, 2 or 5 times a power of ten).
    static func ticks(max: Double) -> [Double] {
        let raw = max / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        // Up to the first tick at least 4 % above the data, so the highest line never runs along the frame.
        var ticks: [Double] = [0]
        while ticks.last! < max * 1.04 { ticks.append(ticks.last! + step) }
        return ticks
    }

    static func label(_ v: Double) -> String {
        if v >= 1_000_000 { return Format.fixed(v / 1_000_000, v.truncatingRemainder(dividingBy: 1_000_000) == 0 ? 0 : 1) + "M" }
        if v >= 10_000 { return Format.fixed(v / 1000, v.truncatingRemainder(dividingBy: 1000) == 0 ? 0 : 1) + "k" }
        if v == v.rounded() { return String(Int(v)) }
        return Format.fixed(v, v < 0.1 ? 2 : 1)
    }

    private func f(_ v: Double) -> String { Format.fixed(v, 1) }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
