import DrizzleCore
import DrizzleCrypto
import Foundation
import Logging
import NIOPosix
import Testing

@testable import DrizzleNode

#if canImport(Glibc)
    import Glibc
#endif

/// `gossip.max_datagram_bytes` bounds what a node accepts as well as what it sends: a longer
/// datagram is dropped as `oversize` whatever it holds, and one within the limit is read whole.
@Suite("Node runtime: the datagram limit", .serialized)
struct DatagramLimitTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Sends `bytes` as one UDP datagram to `address` (`127.0.0.1:port`).
    func send(_ bytes: [UInt8], to address: String) throws {
        let port = try #require(address.split(separator: ":").last.flatMap { UInt16($0) })
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let sent = bytes.withUnsafeBytes { buffer in
            withLoopbackAddress(port: Int(port)) { sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, $1) }
        }
        try #require(sent == bytes.count)
    }

    /// A datagram that looks like an envelope up to its length field (`count` bytes, length = count).
    func headerShaped(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes[0] = 0x42
        bytes[1] = 0x44
        bytes[2] = EnvelopeHeader.version
        for (index, shift) in [24, 16, 8, 0].enumerated() { bytes[4 + index] = UInt8(truncatingIfNeeded: count >> shift) }
        return bytes
    }

    /// `b`'s signed envelope of `count` bytes or a little less, carrying its certificate.
    func signed(by name: String, keys: String, bytes count: Int) throws -> [UInt8] {
        let identity = try KeyStore(directory: keys).identity(of: name)
        var sealer = EnvelopeSealer(
            signer: identity.key, certificate: identity.certificate,
            sender: identity.certificate.nodeID(suite: SodiumSuite()), epoch: 1, maximumLength: count)
        let room = sealer.frameCapacity(attachingCertificate: true) - Frame.overhead
        return try sealer.seal([Frame(type: 0x7E, body: Array(repeating: 7, count: room))], attachingCertificate: true, at: WallClock.now())
    }

    @Test("datagrams over the limit are dropped as oversize, signed or not; one within a larger limit is read whole")
    func oversize() async throws {
        try await withCluster(["a", "b", "c"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let a = try await startNode("a", seed: nil, keys: keys, group: group, logger: logger)
            for count in [1201, 3000, 60_000] { try send(headerShaped(count), to: a.address) }
            let signedOver = try signed(by: "b", keys: keys, bytes: 1201)
            #expect(signedOver.count == 1201)
            try send(signedOver, to: a.address)
            #expect(await eventually(10) { await a.drops[.oversize] == 4 })
            let dropsAtA = await a.drops
            #expect(dropsAtA[.oversize] == 4 && dropsAtA.total == 4, "\(dropsAtA.nonZero)")
            // A node configured for 4,000-byte datagrams reads a 3,000-byte one whole.
            let c = try await NodeHost.start(
                NodeOptions(
                    name: "c", keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership(),
                    datagramLimit: 4000),
                group: group, logger: logger)
            try send(try signed(by: "b", keys: keys, bytes: 3000), to: c.address)
            #expect(await eventually(10) { await c.datagramsIn == 1 })
            let dropsAtC = await c.drops
            #expect(dropsAtC.total == 0, "\(dropsAtC.nonZero)")
            await a.shutdown(graceful: false)
            await c.shutdown(graceful: false)
            try await group.shutdownGracefully()
        }
    }
}
