/// A small table printed either aligned for people or as CSV for tools.
struct Table {
    enum Format: String, CaseIterable, Sendable {
        case table
        case csv
    }

    var header: [String]
    var rows: [[String]]

    func render(_ format: Format) -> String {
        switch format {
        case .csv:
            return ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .table:
            let all = [header] + rows
            let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
            return all.map { row in
                row.enumerated().map { column, cell in
                    column == 0 ? cell.padding(widths[column]) : cell.leftPadding(widths[column])
                }.joined(separator: "  ")
            }.joined(separator: "\n") + "\n"
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    fileprivate func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
