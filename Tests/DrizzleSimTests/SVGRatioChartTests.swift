import DrizzleSim
import Foundation
import Testing

@Suite("Side-by-side chart: bench/compare-* CSV to SVG")
struct SVGRatioChartTests {
    static let csv = """
        n,metric,serf,bitdrizzle,ratio_bitdrizzle_to_serf
        8,all_alive_s,0.50,0.25,0.50
        8,rss_mib_per_agent,15.0,30.0,2.00
        8,event_latency_max_s,0.20,never,-

        """

    @Test("every row becomes a bar labelled with its metric and size, the baseline named in the title")
    func parsesRows() throws {
        let chart = try SVGRatioChart.comparison(csv: Self.csv)
        #expect(chart.title.hasPrefix("BitDrizzle / serf"))
        #expect(
            chart.bars == [
                .init(label: "all_alive_s n=8", ratio: 0.5), .init(label: "rss_mib_per_agent n=8", ratio: 2),
                .init(label: "event_latency_max_s n=8", ratio: nil),
            ])
    }

    @Test("a ratio of 1/2 and of 2 are bars of equal length on either side of parity, green and red")
    func logScaleAroundParity() throws {
        let svg = try SVGRatioChart.comparison(csv: Self.csv).render()
        let rects = svg.split(separator: "\n").filter { $0.hasPrefix("<rect x=") }
        #expect(rects.count == 2)
        func attribute(_ name: String, _ line: Substring) -> Double? {
            guard let range = line.range(of: "\(name)=\"") else { return nil }
            return Double(line[range.upperBound...].prefix { $0 != "\"" })
        }
        let widths = rects.compactMap { attribute("width", $0) }
        #expect(widths.count == 2 && abs(widths[0] - widths[1]) < 0.001)
        #expect(rects[0].contains("#2ca02c") && rects[1].contains("#d62728"))
        // The ahead bar ends where the behind bar starts: at the parity line.
        let aheadEnd = (attribute("x", rects[0]) ?? 0) + widths[0]
        #expect(abs(aheadEnd - (attribute("x", rects[1]) ?? -1)) < 0.001)
        #expect(svg.contains("no figure"))
    }

    @Test("a CSV of another shape is refused with the line that is wrong")
    func refusesMalformed() {
        #expect(throws: SVGRatioChart.ParseError.self) { try SVGRatioChart.comparison(csv: "a,b\n1,2\n") }
        do {
            _ = try SVGRatioChart.comparison(csv: "n,metric,serf,bitdrizzle,r\n8,x,1,2,abc\n")
            Issue.record("a ratio that is not a number was accepted")
        } catch {
            #expect("\(error)".contains("line 2"))
        }
    }
}
