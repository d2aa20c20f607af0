extension DrizzleConfiguration {
    /// Every setting with its effective value, in the order of `config/default.yaml` (what
    /// `drizzle config` prints).
    public var renderedSettings: [(key: String, value: String)] {
        var renderer = SettingRenderer()
        var copy = self
        copy.visitSettings(&renderer)
        return renderer.lines
    }
}

/// A visitor that writes each setting's value as text.
private struct SettingRenderer: SettingVisitor {
    typealias Failure = Never
    var lines: [(key: String, value: String)] = []

    mutating func visit(_ key: String, _ value: inout Int, in bounds: ClosedRange<Int>) {
        lines.append((key, String(value)))
    }

    mutating func visit(_ key: String, _ value: inout String, _ rule: TextRule) { lines.append((key, value)) }

    mutating func visit(_ key: String, _ value: inout [String], each rule: TextRule) {
        lines.append((key, "[" + value.joined(separator: ", ") + "]"))
    }

    mutating func visit(_ key: String, _ value: inout Bool) { lines.append((key, String(value))) }

    mutating func visit<Choice: RawRepresentable & CaseIterable>(_ key: String, _ value: inout Choice)
    where Choice.RawValue == String {
        lines.append((key, value.rawValue))
    }
}
