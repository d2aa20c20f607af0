import Foundation

/// The current time in whole Unix seconds: the `now` every library call is given.
func unixNow() -> Int64 {
    Int64(Date().timeIntervalSince1970.rounded(.down))
}

/// `seconds` since the Unix epoch as ISO 8601 in UTC, such as `2035-05-01T12:00:00Z`.
///
/// Plain integer arithmetic (days to civil date), so every Int64, even a far-future CA expiry,
/// renders without trapping.
func isoText(_ seconds: Int64) -> String {
    let (days, secondOfDay) = floorDivision(seconds, 86_400)
    // Howard Hinnant's days_from_civil inverse; days since 1970-01-01 shifted to 0000-03-01.
    // |days| < 1.1e14 for any Int64, so nothing below can overflow.
    let (era, dayOfEra) = floorDivision(days + 719_468, 146_097)
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    let yearText = year >= 0 && year < 10_000 ? padded(year, 4) : String(year)
    return "\(yearText)-\(padded(month, 2))-\(padded(day, 2))T\(padded(secondOfDay / 3_600, 2)):"
        + "\(padded(secondOfDay / 60 % 60, 2)):\(padded(secondOfDay % 60, 2))Z"
}

/// A span of seconds in the largest whole units, such as `365d`, `2h30m`, `45s`.
func durationText(_ seconds: Int64) -> String {
    guard seconds > 0 else { return "0s" }
    var rest = seconds
    var text = ""
    for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
        text += "\(rest / size)\(unit)"
        rest %= size
    }
    return text
}

private func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
    let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
    return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
}

private func padded(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
