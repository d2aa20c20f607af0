/// Rows as left-aligned columns two spaces apart, the header row first.
func tableText(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in
        all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
    }
    return all.map { row in
        row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.leftAligned(width: widths[column] + 2)
        }.joined()
    }.joined(separator: "\n")
}

/// Label/value lines with the values aligned, each indented by two spaces.
func fieldsText(_ fields: [(label: String, value: String)]) -> String {
    let width = (fields.map(\.label.count).max() ?? 0) + 1
    return fields.map { "  " + "\($0.label):".leftAligned(width: width + 1) + $0.value }.joined(separator: "\n")
}

/// `count` and `noun`, with an `s` unless the count is one: `1 serial`, `2 keys`.
func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

extension String {
    fileprivate func leftAligned(width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
