import Foundation

/// A horizontal bar chart of ratios against a baseline (BitDrizzle / Serf, say): one bar per row,
/// drawn on a log₂ axis from 1, so "twice as slow" and "twice as fast" are bars of equal length on
/// either side of the parity line. Green bars (ratio ≤ 1) are rows where BitDrizzle is at or ahead.
/// Written by hand for the same reason as `SVGPlot` and kept as small.
public struct SVGRatioChart: Sendable {
    public struct Bar: Sendable, Equatable {
        public var label: String
        /// nil: no figure (one side never finished); the row is listed without a bar.
        public var ratio: Double?

        public init(label: String, ratio: Double?) {
            self.label = label
            self.ratio = ratio
        }
    }

    public var title: String
    public var bars: [Bar]

    public init(title: String, bars: [Bar]) {
        self.title = title
        self.bars = bars
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a side-by-side CSV as the `bench/compare-*` scripts write it: a header
    /// `n,metric,<baseline>,bitdrizzle,<ratio column>`, then one row per size and metric whose last
    /// column is the ratio BitDrizzle / baseline (`-` when there is none).
    public static func comparison(csv: String) throws -> SVGRatioChart {
        let lines = csv.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false),
            header.count == 5, header[0] == "n", header[1] == "metric"
        else {
            throw ParseError(description: "the CSV must start with the header n,metric,<baseline>,bitdrizzle,<ratio>")
        }
        var bars: [Bar] = []
        for (index, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 5 else {
                throw ParseError(description: "CSV line \(index + 2) has \(fields.count) fields, not 5: \(line)")
            }
            let ratio = Double(fields[4])
            guard ratio != nil || fields[4] == "-", ratio.map({ $0 > 0 && $0.isFinite }) ?? true else {
                throw ParseError(description: "CSV line \(index + 2): the ratio '\(fields[4])' is not a positive number or -")
            }
            bars.append(Bar(label: "\(fields[1]) n=\(fields[0])", ratio: ratio))
        }
        return SVGRatioChart(
            title: "BitDrizzle / \(header[2]) (left of 1: BitDrizzle ahead)", bars: bars)
    }

    /// The chart as an SVG document.
    public func render(width: Double = 720) -> String {
        let left = 230.0, right = 60.0, top = 40.0, rowHeight = 18.0, bottom = 40.0
        let height = top + rowHeight * Double(max(bars.count, 1)) + bottom
        let logs = bars.compactMap(\.ratio).map(log2)
        // Whole powers of two around every ratio, at least 1/2 … 2.
        let low = min(-1, floor(logs.min() ?? 0)), high = max(1, ceil(logs.max() ?? 0))
        let plotWidth = width - left - right
        func px(_ log: Double) -> Double { left + (log - low) / (high - low) * plotWidth }
        let axisBottom = top + rowHeight * Double(bars.count)

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>

            """
        for step in Int(low)...Int(high) {
            let x = px(Double(step))
            let tick = step >= 0 ? "\(1 << step)" : "1/\(1 << -step)"
            let stroke = step == 0 ? "black" : "#ddd"
            svg += "<line x1=\"\(x)\" y1=\"\(top - 4)\" x2=\"\(x)\" y2=\"\(axisBottom)\" stroke=\"\(stroke)\"/>\n"
            svg += "<text x=\"\(x)\" y=\"\(axisBottom + 16)\" text-anchor=\"middle\">\(tick)</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">ratio (log scale)</text>\n"
        for (index, bar) in bars.enumerated() {
            let y = top + rowHeight * Double(index)
            svg += "<text x=\"\(left - 8)\" y=\"\(y + 13)\" text-anchor=\"end\">\(escape(bar.label))</text>\n"
            guard let ratio = bar.ratio else {
                svg += "<text x=\"\(px(0) + 6)\" y=\"\(y + 13)\">no figure</text>\n"
                continue
            }
            let (start, end) = (px(0), px(log2(ratio)))
            let color = ratio <= 1 ? "#2ca02c" : "#d62728"
            svg += "<rect x=\"\(min(start, end))\" y=\"\(y + 3)\" width=\"\(max(abs(end - start), 1))\" "
            svg += "height=\"\(rowHeight - 6)\" fill=\"\(color)\"/>\n"
            svg += "<text x=\"\(max(start, end) + 4)\" y=\"\(y + 13)\">\(String(format: "%.2f", ratio))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func escape(_ text: String) -> String { svgEscaped(text) }
}
