import DrizzleCore
import DrizzleCrypto
@_spi(Fuzzing) import DrizzleNode
import NIOCore
import NIOEmbedded

/// Envelope bytes as a peer sends them. The first input byte is the mode: bit 0 signs each
/// envelope with the key of the fixture node its header names (node 0 if none) before opening it (the fuzzer cannot forge Ed25519, so without this
/// it would never get past the signature check), bit 1 treats the rest as a TCP stream (4-byte
/// length, envelope; the runtime's `FrameDecoder`) rather than one datagram.
enum EnvelopeTarget {
    static let signFlag: UInt8 = 0x01
    static let streamFlag: UInt8 = 0x02
    static let streamLimit = 1 << 16

    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        guard let mode = input.first else { return .rejected }
        let rest = Array(input.dropFirst())
        let identities = FuzzIdentities.shared
        var opener = EnvelopeOpener(suite: FuzzIdentities.suite, trust: identities.trust, maximumLength: streamLimit + 64)
        var accepted = false
        for var envelope in mode & streamFlag != 0 ? streamFrames(rest) : [rest] {
            if mode & signFlag != 0 {
                let key = identities.key(claimedBy: envelope)
                envelope += envelope.withUnsafeBytes { key.signature(of: $0) }
            }
            guard case .success(let opened) = opener.open(envelope, at: FuzzIdentities.now) else { continue }
            accepted = true
            for frame in opened.frames {
                if case .broken(let problem) = MessageDecoders.decodeAll(frame) { return .broken(problem) }
            }
        }
        return accepted ? .accepted : .rejected
    }

    /// The envelopes a TCP stream of `bytes` carries, split by the runtime's decoder; a frame over
    /// the limit ends the stream, as it closes the connection in the runtime.
    static func streamFrames(_ bytes: [UInt8]) -> [[UInt8]] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumLength: streamLimit)))
        defer { _ = try? channel.finish() }
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
        var frames: [[UInt8]] = []
        while let frame = try? channel.readInbound(as: ByteBuffer.self) {
            frames.append(Array(frame.readableBytesView))
        }
        return frames
    }

    /// Envelopes from an admitted node, from a node whose certificate rides along, and from a
    /// revoked one; as datagrams and as a stream; signed by the target (signature left off) and as
    /// sent (signature on).
    static var seeds: [[UInt8]] {
        let identities = FuzzIdentities.shared
        let frames = MessageDecoders.sampleFrames
        var seeds: [[UInt8]] = []
        for (index, attach) in [(0, false), (0, true), (1, true), (3, true)] {
            var sealer = identities.sealer(index)
            for chunk in stride(from: 0, to: frames.count, by: 4) {
                let group = Array(frames[chunk..<min(chunk + 4, frames.count)])
                guard let sealed = try? sealer.seal(group, attachingCertificate: attach, at: FuzzIdentities.now) else {
                    continue
                }
                let unsigned = Array(sealed.dropLast(signatureByteCount))
                seeds.append([signFlag] + unsigned)
                if index == 0 && !attach { seeds.append([0] + sealed) }
                if chunk == 0 {
                    var stream: [UInt8] = [signFlag | streamFlag]
                    var length = ByteWriter()
                    length.write(UInt32(unsigned.count))
                    for _ in 0..<2 { stream += length.bytes + unsigned }
                    seeds.append(stream)
                }
            }
        }
        return seeds
    }

}
