import ArgumentParser
import DrizzleCore
import DrizzleCrypto
import DrizzleNode
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `drizzle adversary`: hostile traffic against a node, to test that it drops and counts every
/// datagram and admits no one (docs/security.md, `scripts/multihost --attack`).
struct Adversary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send hostile datagrams to a node (garbage, forged signatures, replays, bad certificates) to test its defences.",
        discussion: """
            Each attack names the drop reason the target counts for every datagram sent
            (RI and the drizzle_dropped_envelopes metric show the counts):

            garbage   random bytes: malformed
            forged    a real node's certificate, another key's signature: bad_signature
            replay    datagrams to the target, captured for --capture-seconds with a
                      packet socket (root, in the target's network namespace), sent
                      again: replay or too_old
            identity  sealed as --name from --keys-dir: revoked, expired or
                      untrusted_issuer, as that certificate stands

            Prints one line: how many datagrams went out and the reason to expect.
            Ctrl-C stops sending early and still prints it.
            """)

    enum Attack: String, ExpressibleByArgument, CaseIterable {
        case garbage, forged, replay, identity
    }

    @Option(help: "The target node's peer address, host:port.")
    var target: String

    @Option(help: "The attack: \(Attack.allCases.map(\.rawValue).joined(separator: ", ")).")
    var attack: Attack

    @Option(help: "How many datagrams to send (replay: at most this many of those captured).")
    var count = 1_000

    @Option(help: "Datagrams per second.")
    var rate = 1_000

    @Option(help: "forged: the certificate of a real node to impersonate (a .crt file).")
    var certificate: String?

    @Option(help: "identity: the key folder holding the identity to send as.")
    var keysDir: String?

    @Option(help: "identity: the node name whose key and certificate to send with.")
    var name: String?

    @Option(help: "replay: how long to capture datagrams to the target before replaying them.")
    var captureSeconds = 3.0

    func run() throws {
        guard count > 0, rate > 0 else { throw fail("--count and --rate must be positive") }
        let address = try Self.parse(target)
        var datagrams: [[UInt8]] = []
        let expected: String
        switch attack {
        case .garbage:
            // Made as they are sent: a long flood would not fit in memory.
            expected = DropReason.malformed.rawValue
        case .forged:
            guard let certificate else { throw fail("--attack forged needs --certificate FILE (a real node's .crt)") }
            let impersonated: Certificate
            do {
                impersonated = try KeyFiles.loadCertificate(certificate)
            } catch {
                throw fail("\(error) (pass the .crt of a node of the target's cluster)")
            }
            // The real node's id, serial and certificate; the signature from a key that is not its.
            var sealer = EnvelopeSealer(
                signer: SigningKey.generate(), certificate: impersonated,
                sender: impersonated.nodeID(suite: SodiumSuite()), epoch: UInt32.random(in: 1...UInt32.max))
            datagrams = try Self.seal(count, with: &sealer)
            expected = DropReason.badSignature.rawValue
        case .identity:
            guard let keysDir, let name else { throw fail("--attack identity needs --keys-dir DIR and --name NAME") }
            let identity: (key: SigningKey, certificate: Certificate)
            do {
                identity = try KeyStore(directory: keysDir).identity(of: name)
            } catch {
                throw fail("\(error)")
            }
            var sealer = EnvelopeSealer(
                signer: identity.key, certificate: identity.certificate,
                sender: identity.certificate.nodeID(suite: SodiumSuite()), epoch: UInt32.random(in: 1...UInt32.max))
            datagrams = try Self.seal(count, with: &sealer)
            expected = "revoked, expired or untrusted_issuer (as the certificate stands)"
        case .replay:
            datagrams = Array(try PacketCapture.datagrams(to: address, for: captureSeconds).prefix(count))
            guard !datagrams.isEmpty else {
                throw fail("captured no datagrams to \(target) in \(captureSeconds) s: run in the target's network namespace")
            }
            expected = "\(DropReason.replay.rawValue) or \(DropReason.tooOld.rawValue)"
        }
        let started = Date()
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        let sent = try Self.send(
            datagrams.isEmpty ? count : datagrams.count, to: address, rate: rate,
            make: { datagrams.isEmpty ? Self.garbage() : datagrams[$0] })
        let elapsed = Date().timeIntervalSince(started)
        say("sent \(sent) \(attack.rawValue) datagrams to \(target) in \(fixed(elapsed, 2)) s (\(Int(Double(sent) / max(elapsed, 0.001)))/s); expect drops: \(expected)")
    }

    /// 64 KiB of random bytes that garbage datagrams are cut from (cutting is cheap enough for a
    /// flood at 10,000 per second; drawing each byte is not).
    static let garbagePool = SecureRandom.bytes(65_536)

    /// Random bytes, 8 to 400 of them, that cannot start an envelope (the first byte is never the
    /// magic's).
    static func garbage() -> [UInt8] {
        let length = Int.random(in: 8...400)
        let start = Int.random(in: 0...(garbagePool.count - length))
        var bytes = Array(garbagePool[start..<(start + length)])
        if bytes[0] == EnvelopeHeader.magic[0] { bytes[0] ^= 0xFF }
        return bytes
    }

    /// `count` envelopes, each with the certificate attached and an empty body.
    static func seal(_ count: Int, with sealer: inout EnvelopeSealer<SigningKey>) throws -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        for _ in 0..<count {
            do {
                datagrams.append(try sealer.seal([], attachingCertificate: true, at: WallClock.now()))
            } catch {
                throw fail("cannot seal an envelope: \(error)")
            }
        }
        return datagrams
    }

    static func parse(_ text: String) throws -> sockaddr_in {
        let parts = text.split(separator: ":")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        guard parts.count == 2, let port = UInt16(parts[1]), inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1
        else { throw fail("--target '\(text)' is not an IPv4 host:port (for example 10.0.0.2:40000)") }
        address.sin_port = port.bigEndian
        return address
    }

    /// Sends `count` datagrams (`make(i)` the i-th) at `rate` per second, or until SIGINT; returns
    /// how many the kernel accepted.
    static func send(_ count: Int, to address: sockaddr_in, rate: Int, make: (Int) -> [UInt8]) throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw fail("cannot open a UDP socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var target = address
        let started = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        for index in 0..<count {
            if stopRequested.load(ordering: .relaxed) { break }
            let datagram = make(index)
            // Pace: datagram i leaves no earlier than i / rate seconds after the start.
            let due = started + UInt64(index) * 1_000_000_000 / UInt64(rate)
            while DispatchTime.now().uptimeNanoseconds < due { usleep(200) }
            let result = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if result == datagram.count { sent += 1 }
        }
        return sent
    }
}

/// Set by SIGINT: stop sending, report what went out.
private let stopRequested = Atomic<Bool>(false)

/// Captures UDP payloads sent to one address on every interface of this network namespace, with a
/// packet socket (needs root): what an attacker on the path sees.
enum PacketCapture {
    static func datagrams(to address: sockaddr_in, for seconds: Double) throws -> [[UInt8]] {
        let ipv4: UInt16 = 0x0800
        let descriptor = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue), Int32(ipv4.bigEndian))
        guard descriptor >= 0 else {
            throw fail("cannot open a packet socket (\(String(cString: strerror(errno)))): replay needs root")
        }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var captured: [[UInt8]] = []
        var seen: Set<[UInt8]> = []
        let host = UInt32(bigEndian: address.sin_addr.s_addr)
        let port = UInt16(bigEndian: address.sin_port)
        while Date() < deadline {
            let length = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard length > 0 else { continue }
            // A packet socket sees each packet as it enters and, on this host, as it leaves: keep one.
            if let payload = udpPayload(buffer[0..<length], host: host, port: port), seen.insert(payload).inserted {
                captured.append(payload)
            }
        }
        return captured
    }

    /// The payload of an IPv4 UDP packet to `host`:`port` that starts like an envelope.
    static func udpPayload(_ packet: ArraySlice<UInt8>, host: UInt32, port: UInt16) -> [UInt8]? {
        var reader = ByteReader(Array(packet))
        guard let versionAndLength = reader.readUInt8(), versionAndLength >> 4 == 4 else { return nil }
        let headerLength = Int(versionAndLength & 0x0F) * 4
        guard headerLength >= 20, reader.skip(8) != nil, let proto = reader.readUInt8(), proto == 17,
            reader.skip(2) != nil, reader.readUInt32() != nil, let destination = reader.readUInt32(), destination == host,
            reader.skip(headerLength - 20) != nil, reader.readUInt16() != nil, let destinationPort = reader.readUInt16(),
            destinationPort == port, let udpLength = reader.readUInt16(), udpLength >= 8, reader.skip(2) != nil,
            let payload = reader.readBytes(Int(udpLength) - 8), payload.starts(with: EnvelopeHeader.magic)
        else { return nil }
        return payload
    }
}
