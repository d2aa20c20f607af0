package import DrizzleCore
import DrizzleCrypto
import Synchronization

/// The certificate-expiry warnings of the nodes one process runs, folded into one line.
///
/// A node on its own warns when it starts and then once an hour while its certificate expires
/// within `KeyStore.expiringWindowSeconds` (30 days) or has expired. Nodes that share one
/// `ExpiryWarnings` (`NodeOptions.expiryWarnings`; the prompt's nodes do) warn together: one line
/// an hour saying how many certificates expire and which first, however many nodes there are.
/// The first of those lines comes an hour after the first node looked, because the code that
/// starts the nodes reports at start, when it knows them all: `DevelopmentKeys.ensure` returns
/// `line(for:now:)` among its lines.
public final class ExpiryWarnings: Sendable {
    private struct State {
        /// Nodes whose certificate expires within the window: name → not-after (Unix seconds).
        var expiring: [String: Int64] = [:]
        var nextLineAt: Instant?
    }

    private let state = Mutex(State())
    private let repeatNanoseconds: Int64

    /// A fold that repeats its line every `repeatNanoseconds` (an hour).
    public init(repeatNanoseconds: Int64 = 3_600_000_000_000) {
        self.repeatNanoseconds = repeatNanoseconds
    }

    /// Records where `node`'s certificate stands at `now` (each node calls it at every key check);
    /// returns the line to log when one is due.
    package func note(node: String, notAfter: Int64, now: Instant) -> String? {
        state.withLock { state in
            let isExpiring = notAfter - now.unixSeconds <= KeyStore.expiringWindowSeconds
            state.expiring[node] = isExpiring ? notAfter : nil
            guard let due = state.nextLineAt else {
                state.nextLineAt = now.advanced(byNanoseconds: repeatNanoseconds)
                return nil
            }
            guard now >= due,
                let line = Self.line(for: state.expiring.map { ($0.key, $0.value) }, now: now.unixSeconds)
            else { return nil }
            state.nextLineAt = now.advanced(byNanoseconds: repeatNanoseconds)
            return line
        }
    }

    /// Forgets a node that stopped.
    package func forget(node: String) {
        state.withLock { _ = $0.expiring.removeValue(forKey: node) }
    }

    /// One line about those of `certificates` (node name, not-after in Unix seconds) that expire
    /// within `KeyStore.expiringWindowSeconds` of `now` or have expired, or `nil` when none does:
    /// `24 node certificates expire within 30 days (earliest node-40003 in 12 days): …`.
    public static func line(for certificates: [(name: String, notAfter: Int64)], now: Int64) -> String? {
        let window = KeyStore.expiringWindowSeconds
        let expiring = certificates.filter { $0.notAfter - now <= window }
            .sorted { ($0.notAfter, $0.name) < ($1.notAfter, $1.name) }
        guard let first = expiring.first else { return nil }
        let when =
            first.notAfter < now ? "expired \(span(now - first.notAfter)) ago" : "in \(span(first.notAfter - now))"
        guard expiring.count > 1 else {
            let verb = first.notAfter < now ? "" : "expires "
            return "the certificate of \(first.name) \(verb)\(when): renew it on the CA host with "
                + "`drizzle-keys rotate \(first.name)` (peers drop the envelopes of an expired certificate)"
        }
        let verb = first.notAfter < now ? "have expired or expire" : "expire"
        return "\(expiring.count) node certificates \(verb) within \(window / 86_400) days (earliest \(first.name) "
            + "\(when)): renew each on the CA host with `drizzle-keys rotate <name>`"
    }

    /// A span of seconds in the unit a reader wants: `12 days`, `5 h`, `40 min`.
    private static func span(_ seconds: Int64) -> String {
        if seconds >= 2 * 86_400 { return "\(seconds / 86_400) days" }
        if seconds >= 3_600 { return "\(seconds / 3_600) h" }
        return "\(seconds / 60) min"
    }
}
