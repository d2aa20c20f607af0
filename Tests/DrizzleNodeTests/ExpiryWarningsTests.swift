import DrizzleCore
import DrizzleNode
import Testing

private let day: Int64 = 86_400

@Suite("Expiry warnings of the nodes of one process")
struct ExpiryWarningsTests {
    let start = Instant(unixSeconds: 1_767_225_600)
    let hour: Int64 = 3_600_000_000_000

    @Test("nodes sharing ExpiryWarnings warn once an hour in one line naming how many expire and which first")
    func foldedHourly() {
        let warnings = ExpiryWarnings()
        let now = start.unixSeconds
        let names = (40000..<40024).map { "node-\($0)" }
        func noteAll(at instant: Instant) -> [String] {
            names.enumerated().compactMap { index, name in
                warnings.note(node: name, notAfter: now + (index == 3 ? 12 : 20) * day, now: instant)
            }
        }
        // At start the code that starts the nodes reports (DevelopmentKeys.ensure): the nodes do not.
        #expect(noteAll(at: start).isEmpty)
        #expect(noteAll(at: start.advanced(byNanoseconds: hour - 1)).isEmpty)
        let lines = noteAll(at: start.advanced(byNanoseconds: hour))
        #expect(
            lines == [
                "24 node certificates expire within 30 days (earliest node-40003 in 11 days): renew each on the CA host with `drizzle-keys rotate <name>`"
            ])
        // A node renewed and one stopped drop out of the next line, an hour later.
        let renewedAt = start.advanced(byNanoseconds: hour + 2_000_000_000)
        #expect(warnings.note(node: "node-40003", notAfter: now + 365 * day, now: renewedAt) == nil)
        warnings.forget(node: "node-40000")
        let later = start.advanced(byNanoseconds: 2 * hour)
        var next: [String] = []
        for (index, name) in names.enumerated() where index > 0 {
            let notAfter = now + (index == 3 ? 365 : 20) * day
            if let line = warnings.note(node: name, notAfter: notAfter, now: later) { next.append(line) }
        }
        #expect(next.count == 1, "\(next)")
        #expect(next.first?.hasPrefix("22 node certificates expire within 30 days (earliest node-40001 in 19 days)") == true, "\(next)")
    }

    @Test("one certificate is named with the command to renew it; an expired one says so")
    func singleLines() {
        let now = start.unixSeconds
        #expect(
            ExpiryWarnings.line(for: [("a", now + 5 * 3_600), ("b", now + 40 * day)], now: now)
                == "the certificate of a expires in 5 h: renew it on the CA host with `drizzle-keys rotate a` (peers drop the envelopes of an expired certificate)")
        #expect(ExpiryWarnings.line(for: [("a", now - 3 * day), ("b", now + day)], now: now)?.hasPrefix(
            "2 node certificates have expired or expire within 30 days (earliest a expired 3 days ago)") == true)
        #expect(ExpiryWarnings.line(for: [("b", now + 31 * day)], now: now) == nil)
    }
}
