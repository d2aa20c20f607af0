import DrizzleCore
import DrizzleCrypto
import Testing

@Suite("Streaming BLAKE2b-128")
struct StreamingDigestTests {
    /// A small seeded generator, so a failing split can be replayed.
    private struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("hashing a buffer in random splits gives the one-shot digest128 of the whole buffer")
    func randomSplits() {
        var random = Generator(state: 2026)
        let suite = SodiumSuite()
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...5000, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            let expected = bytes.withUnsafeBytes { suite.digest128($0) }
            var digest = StreamingDigest()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 0...700, using: &random))
                if Bool.random(using: &random) {
                    digest.update(Array(bytes[start..<end]))
                } else {
                    bytes[start..<end].withUnsafeBytes { digest.update($0) }
                }
                start = end
            }
            #expect(digest.finish() == expected)
        }
    }

    @Test("the digest of nothing is BLAKE2b-128 of the empty string")
    func empty() {
        let digest = StreamingDigest()
        // BLAKE2b with a 16-byte output of "" (RFC 7693 parameters, no key).
        #expect(digest.finish().description == "CAE66941D9EFBD404E4D88758EA67670")
        #expect(
            [UInt8]().withUnsafeBytes { SodiumSuite().digest128($0) }.description == "CAE66941D9EFBD404E4D88758EA67670")
    }

    @Test("empty updates change nothing")
    func emptyUpdates() {
        var digest = StreamingDigest()
        digest.update([])
        digest.update(Array("abc".utf8))
        digest.update([])
        #expect(digest.finish() == Array("abc".utf8).withUnsafeBytes { SodiumSuite().digest128($0) })
    }
}
