import Foundation

/// A small SVG line chart for experiment results: series of (x, y) points, linear or log-scaled
/// y axis, ticks and a legend. Written by hand because no offline Swift package draws charts;
/// it stays small on purpose (docs/simulator.md).
public struct SVGPlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Dashed lines mark reference data (a paper's figures).
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logY: Bool
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, logY: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    /// The chart as an SVG document.
    public func render(width: Double = 640, height: Double = 400) -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 50.0
        let points = series.flatMap(\.points).filter { !logY || $0.y > 0 }
        let xs = points.map(\.x), ys = points.map { transform($0.y) }
        var (xMin, xMax) = (xs.min() ?? 0, xs.max() ?? 1)
        var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
        if xMax == xMin { xMax = xMin + 1 }
        if !logY { yMin = min(0, yMin) }
        if yMax == yMin { yMax = yMin + 1 }
        if logY { (yMin, yMax) = (floor(yMin), ceil(yMax)) }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (transform(y) - yMin) / (yMax - yMin) * plotHeight }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>
            <line x1="\(left)" y1="\(top + plotHeight)" x2="\(left + plotWidth)" y2="\(top + plotHeight)" stroke="black"/>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(top + plotHeight)" stroke="black"/>

            """
        for step in 0...5 {
            let x = xMin + (xMax - xMin) * Double(step) / 5
            svg += "<text x=\"\(px(x))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(label(x))</text>\n"
            let raw = yMin + (yMax - yMin) * Double(step) / 5
            let y = logY ? pow(10, raw) : raw
            svg += "<text x=\"\(left - 6)\" y=\"\(py(y) + 4)\" text-anchor=\"end\">\(label(y))</text>\n"
            svg += "<line x1=\"\(left)\" y1=\"\(py(y))\" x2=\"\(left + plotWidth)\" y2=\"\(py(y))\" stroke=\"#eee\"/>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">"
        svg += "\(escape(yLabel))\(logY ? " (log)" : "")</text>\n"
        for (index, line) in series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let path = line.points.filter { !logY || $0.y > 0 }.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            let legendY = top + 14 + Double(index) * 16
            svg += "<line x1=\"\(left + plotWidth - 150)\" y1=\"\(legendY - 4)\" x2=\"\(left + plotWidth - 130)\" "
            svg += "y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<text x=\"\(left + plotWidth - 124)\" y=\"\(legendY)\">\(escape(line.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func transform(_ y: Double) -> Double { logY ? log10(max(y, 1e-12)) : y }

    private func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e6 { return String(Int(value)) }
        return abs(value) < 0.01 ? String(format: "%.0e", value) : String(format: "%.3g", value)
    }

    private func escape(_ text: String) -> String { svgEscaped(text) }
}

/// Text made safe inside an SVG element.
func svgEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
}
