import DrizzleCore
import DrizzleCrypto
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `drizzle bench gossip`: how many signed datagrams one node receives, verifies and applies per
/// second over loopback, against raw Ed25519 verification of the same datagrams in the same run;
/// and the memory one node takes, in multi mode and as an agent process.
public struct GossipBenchmark: Sendable {
    public var seconds: Double
    public var multiModeNodes: Int
    /// The `drizzle` executable, to measure an agent process's RSS (nil: skip).
    public var agentExecutable: String?

    public init(seconds: Double = 3, multiModeNodes: Int = 24, agentExecutable: String? = nil) {
        self.seconds = seconds
        self.multiModeNodes = multiModeNodes
        self.agentExecutable = agentExecutable
    }

    public struct Result: Sendable {
        public var rawVerifyPerSecond: Double
        public var appliedPerSecond: Double
        public var datagramsSent: Int
        public var rumorsLearned: Int
        public var rssPerNodeKiB: Double
        public var rssAgentKiB: Double?
        public var ratio: Double { appliedPerSecond / max(1, rawVerifyPerSecond) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drizzle-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = KeyStore(directory: folder)
        let now = WallClock.now().unixSeconds
        do {
            try store.createAuthority(durationSeconds: 86_400, now: now - 60)
            for name in ["bench-rx", "bench-tx"] + (0..<multiModeNodes).map({ "bench-\($0)" }) {
                _ = try store.issue(name: name, durationSeconds: 3600, now: now - 60)
            }
        } catch {
            throw Failure(description: "cannot issue benchmark keys: \(error)")
        }
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let group = MultiThreadedEventLoopGroup.singleton

        // The sender seals distinct datagrams ahead of time: each carries eight new rumors.
        progress("sealing datagrams")
        let sender: (key: SigningKey, certificate: Certificate)
        do { sender = try store.identity(of: "bench-tx") } catch { throw Failure(description: "\(error)") }
        let senderID = SodiumSuite().nodeID(of: sender.key.publicKey)
        var sealer = EnvelopeSealer(signer: sender.key, certificate: sender.certificate, sender: senderID, epoch: 1)
        let count = Int(seconds * 40_000)
        var datagrams: [[UInt8]] = []
        datagrams.reserveCapacity(count)
        var rumorSequence: UInt64 = 0
        for index in 0..<count {
            var rumors: [Rumor] = []
            for _ in 0..<8 {
                rumors.append(Rumor(id: RumorID(origin: senderID, sequence: rumorSequence), kind: 9, payload: Array(repeating: 7, count: 64)))
                rumorSequence += 1
            }
            let frame = GossipMessage.rumors(rumors, wantsReply: false, isReply: false).frame
            guard let bytes = try? sealer.seal([frame], attachingCertificate: index < 3, at: WallClock.now()) else {
                throw Failure(description: "a benchmark datagram does not fit the envelope")
            }
            datagrams.append(bytes)
        }

        progress("raw verify")
        let suite = SodiumSuite()
        let rawStart = WallClock.now()
        var verified = 0
        while Double(WallClock.now().nanoseconds - rawStart.nanoseconds) < 1e9 {
            let datagram = datagrams[verified % datagrams.count]
            let signed = datagram.count - signatureByteCount
            _ = datagram.withUnsafeBytes { raw in
                suite.isValidSignature(
                    UnsafeRawBufferPointer(rebasing: raw[signed...]), of: UnsafeRawBufferPointer(rebasing: raw[..<signed]),
                    by: sender.key.publicKey)
            }
            verified += 1
        }
        let rawRate = Double(verified) / (Double(WallClock.now().nanoseconds - rawStart.nanoseconds) / 1e9)

        progress("receiving over loopback")
        let receiver = try await NodeHost.start(NodeOptions(name: "bench-rx", keysDirectory: folder, dataDirectory: folder + "/data"), group: group, logger: logger)
        guard let remote = NodeHost.socketAddress(receiver.address) else { throw Failure(description: "bad receiver address") }
        let socket = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let before = await receiver.envelopesIn
        let started = WallClock.now()
        var sent = 0
        let deadline = started.advanced(byNanoseconds: Int64(seconds * 1e9))
        while sent < datagrams.count, WallClock.now() < deadline {
            // Paced in batches, so the kernel's socket buffer never overflows by design.
            var last: EventLoopFuture<Void>?
            for _ in 0..<32 where sent < datagrams.count {
                last = socket.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: datagrams[sent])))
                sent += 1
            }
            try? await last?.get()
            let received = await receiver.envelopesIn - before
            if sent - received > 512 { try? await Task.sleep(for: .microseconds(200)) }
        }
        try? await Task.sleep(for: .milliseconds(200))
        let elapsed = Double(WallClock.now().nanoseconds - started.nanoseconds) / 1e9
        let applied = await receiver.envelopesIn - before - Int((await receiver.drops).total)
        let learned = await receiver.knownRumors
        try? await socket.close()
        await receiver.shutdown(graceful: false)

        progress("memory per node in multi mode")
        let rssBefore = Self.residentKiB(of: "self") ?? 0
        var nodes: [NodeHost] = []
        for index in 0..<multiModeNodes {
            nodes.append(try await NodeHost.start(NodeOptions(name: "bench-\(index)", seeds: nodes.first.map { [$0.address] } ?? [], keysDirectory: folder, dataDirectory: folder + "/data"), group: group, logger: logger))
        }
        try? await Task.sleep(for: .seconds(2))
        let rssAfter = Self.residentKiB(of: "self") ?? 0
        for node in nodes { await node.shutdown(graceful: false) }

        var agentRSS: Double?
        if let executable = agentExecutable {
            progress("memory of an agent process")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["agent", "--name", "bench-rx", "--bind", "127.0.0.1:0", "--keys-dir", folder, "--log-level", "error"]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try? await Task.sleep(for: .seconds(2))
            agentRSS = Self.residentKiB(of: String(process.processIdentifier)).map(Double.init)
            process.interrupt()
            process.waitUntilExit()
        }
        return Result(
            rawVerifyPerSecond: rawRate, appliedPerSecond: Double(applied) / elapsed, datagramsSent: sent,
            rumorsLearned: learned, rssPerNodeKiB: Double(max(0, rssAfter - rssBefore)) / Double(max(1, multiModeNodes)),
            rssAgentKiB: agentRSS)
    }

    /// VmRSS of a process from /proc (KiB).
    static func residentKiB(of pid: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }
}
