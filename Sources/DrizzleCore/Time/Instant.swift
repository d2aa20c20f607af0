/// A point in time as the core sees it: nanoseconds since the Unix epoch on the clock of whoever
/// passed it in (real time in the NIO runtime, virtual time in the simulator).
///
/// The core never reads a clock itself; every method that needs the time takes an `Instant`.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The instant `seconds` whole seconds after the Unix epoch.
    public init(unixSeconds seconds: Int64) {
        nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? (seconds < 0 ? .min : .max) : seconds * 1_000_000_000
    }

    /// Whole seconds since the Unix epoch, rounded toward negative infinity.
    public var unixSeconds: Int64 {
        let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The instant `duration` nanoseconds later, saturating at the ends of the range.
    public func advanced(byNanoseconds duration: Int64) -> Instant {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(duration)
        return Instant(nanoseconds: overflow ? (duration > 0 ? .max : .min) : sum)
    }

    public var description: String { "\(nanoseconds)ns" }
}
