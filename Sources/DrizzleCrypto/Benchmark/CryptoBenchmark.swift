public import DrizzleCore

/// Measures raw libsodium signing and verification of 1,200-byte datagrams against the envelope's
/// seal (encode + sign) and open (verify + decode), on the calling thread. `drizzle bench crypto`
/// prints the result; docs/PERFORMANCE.md records it.
public struct CryptoBenchmark: Sendable {
    /// One measured operation.
    public struct Row: Sendable {
        public var name: String
        public var operationsPerSecond: Double
        /// Operations per second relative to the matching raw libsodium row (1 for raw rows).
        public var ratioToRaw: Double
    }

    public var datagramBytes: Int
    /// How long each operation is timed.
    public var secondsPerOperation: Double

    public init(datagramBytes: Int = 1200, secondsPerOperation: Double = 1) {
        self.datagramBytes = datagramBytes
        self.secondsPerOperation = secondsPerOperation
    }

    /// Runs the four measurements; `progress` is called with a label as each slice starts.
    public func run(now: () -> Instant, progress: (String) -> Void = { _ in }) throws -> [Row] {
        let suite = SodiumSuite()
        let key = SigningKey.generate()
        let caKey = SigningKey.generate()
        let nodeID = suite.nodeID(of: key.publicKey)
        let start = now()
        var certificate = Certificate(
            kind: .node, serial: 1, name: "bench", publicKey: key.publicKey, notBefore: start.unixSeconds - 60,
            notAfter: start.unixSeconds + 86_400, issuer: suite.keyID(of: caKey.publicKey))
        certificate.sign(with: caKey)
        var authority = Certificate(
            kind: .authority, serial: 2, name: "bench-ca", publicKey: caKey.publicKey,
            notBefore: start.unixSeconds - 60, notAfter: start.unixSeconds + 86_400,
            issuer: suite.keyID(of: caKey.publicKey))
        authority.sign(with: caKey)
        let trust = try TrustStore(authorities: [authority], suite: suite)

        var sealer = EnvelopeSealer(
            signer: key, certificate: certificate, sender: nodeID, epoch: 1, maximumLength: datagramBytes)
        let bodyBytes = sealer.frameCapacity(attachingCertificate: false) - Frame.overhead
        let frames = [Frame(type: 1, body: (0..<bodyBytes).map { UInt8(truncatingIfNeeded: $0) })]
        let message = (0..<(datagramBytes - signatureByteCount)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        // A first estimate sizes the pool of datagrams each verify slice walks.
        var expectedVerifyRate = 30_000.0

        var opener = EnvelopeOpener(suite: suite, trust: trust, maximumLength: datagramBytes)
        _ = opener.trust.admit(certificate, at: start, suite: suite)
        var failures = 0
        // Raw and envelope alternate in short slices so a busy machine slows both alike;
        // each figure is the median over the rounds.
        var samples: [[Double]] = Array(repeating: [], count: 4)
        for round in 1...rounds {
            progress("round \(round) of \(rounds): sign")
            samples[0].append(measure(now: now) { _ = key.signature(of: message) })
            samples[2].append(measure(now: now) { _ = try? sealer.seal(frames, at: start) })
            progress("round \(round) of \(rounds): verify")
            // Both verify measurements walk the same pool of distinct sealed datagrams, so neither
            // enjoys a cache-hot message the other lacks.
            var sealed: [[UInt8]] = []
            let needed = Int(expectedVerifyRate * sliceSeconds * 1.5) + 256
            sealed.reserveCapacity(needed)
            while sealed.count < needed {
                if let bytes = try? sealer.seal(frames, at: start) { sealed.append(bytes) }
            }
            var rawNext = 0
            samples[1].append(
                measure(now: now) {
                    let datagram = sealed[rawNext % sealed.count]
                    rawNext += 1
                    let valid = datagram.withUnsafeBytes { raw in
                        suite.isValidSignature(
                            UnsafeRawBufferPointer(rebasing: raw[(raw.count - signatureByteCount)...]),
                            of: UnsafeRawBufferPointer(rebasing: raw[..<(raw.count - signatureByteCount)]),
                            by: key.publicKey)
                    }
                    if !valid { failures += 1 }
                })
            expectedVerifyRate = max(expectedVerifyRate, samples[1][round - 1])
            var next = 0
            samples[3].append(
                measure(now: now) {
                    if next < sealed.count, case .success = opener.open(sealed[next], at: start) {} else { failures += 1 }
                    next += 1
                })
        }
        guard failures == 0 else { throw BenchmarkFailure(reason: "\(failures) sealed datagrams failed to open") }
        let rawSign = median(samples[0])
        let rawVerify = median(samples[1])
        let sealRate = median(samples[2])
        let openRate = median(samples[3])
        return [
            Row(name: "libsodium_sign", operationsPerSecond: rawSign, ratioToRaw: 1),
            Row(name: "libsodium_verify", operationsPerSecond: rawVerify, ratioToRaw: 1),
            Row(name: "envelope_seal", operationsPerSecond: sealRate, ratioToRaw: ratio(samples[2], samples[0])),
            Row(name: "envelope_open", operationsPerSecond: openRate, ratioToRaw: ratio(samples[3], samples[1])),
        ]
    }

    private var rounds: Int { 5 }
    private var sliceSeconds: Double { secondsPerOperation / Double(rounds) }

    /// The median over rounds of each round's envelope rate divided by the same round's raw rate.
    private func ratio(_ envelope: [Double], _ raw: [Double]) -> Double {
        median(zip(envelope, raw).map { $0 / max($1, 1) })
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// Why the benchmark could not produce figures.
    public struct BenchmarkFailure: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "benchmark failed: \(reason)" }
    }

    private func measure(now: () -> Instant, _ body: () -> Void) -> Double {
        let budget = Int64(sliceSeconds * 1e9)
        let begin = now()
        var count = 0
        var elapsed: Int64 = 0
        repeat {
            for _ in 0..<64 { body() }
            count += 64
            elapsed = now().nanoseconds - begin.nanoseconds
        } while elapsed < budget
        return Double(count) / (Double(elapsed) / 1e9)
    }
}
