/// How long a certificate is valid, as given on the command line: one or more `<number><unit>`
/// groups with units `d` (days), `h`, `m`, `s`, such as `8760h`, `90d`, `30m`, `45s`, `1h30m`.
///
/// Parsed inside `run()` rather than by ArgumentParser, so a bad value is reported as one line.
struct Lifetime: Equatable {
    /// The duration in seconds; always positive.
    let seconds: Int64

    /// Why a duration text was refused.
    struct ParseError: Error, CustomStringConvertible {
        let text: String
        let reason: String

        var description: String {
            "invalid duration '\(text)': \(reason) (use a number and a unit d, h, m or s, e.g. 8760h, 90d, 1h30m)"
        }
    }

    /// Parses `text`; refuses an empty text, a missing number or unit, an unknown unit, zero and overflow.
    init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty else { throw ParseError(text: text, reason: "empty") }
        var total: Int64 = 0
        var number: Int64?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9":
                let digit = Int64(scalar.value - UInt32(("0" as Unicode.Scalar).value))
                let (times10, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { throw ParseError(text: text, reason: "too long") }
                number = sum
            default:
                guard let unit = Lifetime.unitSeconds(scalar) else {
                    throw ParseError(text: text, reason: "unknown unit '\(scalar)'")
                }
                guard let value = number else { throw ParseError(text: text, reason: "a unit without a number") }
                let (seconds, overflow1) = value.multipliedReportingOverflow(by: unit)
                let (sum, overflow2) = total.addingReportingOverflow(seconds)
                guard !overflow1, !overflow2 else { throw ParseError(text: text, reason: "too long") }
                total = sum
                number = nil
            }
        }
        guard number == nil else { throw ParseError(text: text, reason: "a number without a unit") }
        guard total > 0 else { throw ParseError(text: text, reason: "must be longer than zero") }
        seconds = total
    }

    private static func unitSeconds(_ scalar: Unicode.Scalar) -> Int64? {
        switch scalar {
        case "d": 86_400
        case "h": 3_600
        case "m": 60
        case "s": 1
        default: nil
        }
    }
}
