import DrizzleCore
import DrizzleCrypto
import Foundation
import Logging
import NIOPosix
import Synchronization

/// `drizzle bench data`: write and read throughput of a random file at several piece sizes, and
/// lookups per second, on a multi-mode cluster in this process — real nodes on loopback UDP and
/// TCP sockets, Ed25519-signed envelopes, disk stores in a temporary folder.
///
/// The file is written, read back and checked byte for byte from node 0, then deleted (and every
/// replica's copy seen gone) before the next piece size. Piece sizes run largest first, so the
/// file of the most pieces — the slowest to delete — comes last and goes with the cluster; the
/// results come back in the order given (a size given twice runs once). Every node is stopped
/// and the temporary folder removed when the run ends, fails or is cancelled.
public struct DataBenchmark: Sendable {
    /// Nodes in the cluster.
    public var nodes: Int
    /// Size of the random file.
    public var fileBytes: Int
    /// Piece sizes in bytes, in the order the results come back.
    public var pieceSizes: [Int]
    /// Lookups of random keys from random nodes (0: none).
    public var lookups: Int
    /// Lookups in flight at once.
    public var lookupWindow: Int
    /// How long the ring may take to become exact before the run fails.
    public var ringSeconds: Double

    public init(
        nodes: Int = 24, fileBytes: Int = 64 << 20, pieceSizes: [Int] = [256, 65_536], lookups: Int = 10_000,
        lookupWindow: Int = 64, ringSeconds: Double = 120
    ) {
        self.nodes = nodes
        self.fileBytes = fileBytes
        self.pieceSizes = pieceSizes
        self.lookups = lookups
        self.lookupWindow = lookupWindow
        self.ringSeconds = ringSeconds
    }

    /// The figures of one piece size. MB are 2^20 bytes.
    public struct PieceRun: Sendable {
        public var pieceSize: Int
        public var bytes: Int
        public var pieces: Int
        /// The fewest replicas any piece reached.
        public var replicas: Int
        public var writeSeconds: Double
        public var readSeconds: Double
        /// From the delete request to every replica's copy gone; nil for the piece size measured
        /// last, whose file goes with the cluster.
        public var deleteSeconds: Double?
        public var megabytes: Double { Double(bytes) / 1_048_576 }
        public var writeMegabytesPerSecond: Double { megabytes / max(writeSeconds, 1e-9) }
        public var readMegabytesPerSecond: Double { megabytes / max(readSeconds, 1e-9) }
    }

    /// The figures of the lookups.
    public struct LookupRun: Sendable {
        public var succeeded: Int
        public var failed: Int
        public var window: Int
        public var seconds: Double
        /// Remote nodes asked per successful lookup (0 when the starting node knew the owner).
        public var meanHops: Double
        public var perSecond: Double { Double(succeeded) / max(seconds, 1e-9) }
    }

    /// Everything a run measured.
    public struct Result: Sendable {
        /// One per distinct piece size, in the order given.
        public var pieceRuns: [PieceRun]
        /// Nil when no lookups were asked for.
        public var lookups: LookupRun?
        /// From starting the first node to an exact ring.
        public var ringSeconds: Double
        /// Whether every finger of every node was right when the lookups started.
        public var fingersExact: Bool
        /// From issuing the keys to the last lookup (stopping the nodes and removing the files excluded).
        public var totalSeconds: Double
    }

    /// Why the run failed, in one line.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// What the run is doing, for a progress display.
    public enum Event: Sendable {
        /// The next of `stepCount` steps begins.
        case step(String)
        /// `done` of `total` units of the current step.
        case advanced(done: Int, total: Int, unit: String)
    }

    /// How many `.step` events a run announces.
    public var stepCount: Int { 3 + 4 * distinctPieceSizes.count + (lookups > 0 ? 2 : 0) }

    /// The piece sizes in the order given, each once.
    var distinctPieceSizes: [Int] {
        var seen: Set<Int> = []
        return pieceSizes.filter { seen.insert($0).inserted }
    }

    /// The name of the random file, as the manifest records it.
    static let fileName = "bench-data.bin"

    /// Why these settings cannot run, in one line; nil when they can.
    public var problem: String? {
        guard nodes >= 1 else { return "--nodes must be at least 1" }
        guard fileBytes >= 1 else { return "the file must have at least one byte" }
        guard !pieceSizes.isEmpty else { return "give at least one piece size" }
        guard lookups >= 0 else { return "--lookups must not be negative" }
        guard lookupWindow >= 1 else { return "the lookup window must be at least 1" }
        for size in pieceSizes {
            guard (1...DataMessage.maximumBlobBytes).contains(size) else {
                return "piece size \(size) is out of range: use 1 to \(DataMessage.maximumBlobBytes) bytes"
            }
            let count = Manifest.pieceCount(fileSize: UInt64(fileBytes), pieceSize: UInt32(size))
            let nameBytes = Self.fileName.utf8.count
            let manifestBytes = Manifest.encodedSize(pieceCount: Int(clamping: count), nameBytes: nameBytes)
            if manifestBytes > Manifest.maximumEncodedBytes {
                let minimum = Manifest.minimumPieceSize(fileSize: UInt64(fileBytes), nameBytes: nameBytes)
                return "piece size \(size) makes the manifest of a \(fileBytes >> 20) MB file too big: use at least "
                    + "\(minimum.map(String.init) ?? "a larger size") bytes"
            }
        }
        return nil
    }

    /// Runs the benchmark. Cancelling the task stops every node at once (so a long write or read
    /// ends with an error) and the run throws after cleaning up.
    public func run(progress: @escaping @Sendable (Event) -> Void = { _ in }) async throws -> Result {
        if let problem { throw Failure(problem) }
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("drizzle-bench-data-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cluster = BenchCluster()
        do {
            let result = try await withTaskCancellationHandler {
                try await measure(in: folder, cluster: cluster, progress: progress)
            } onCancel: {
                cluster.stopSoon()
            }
            await cluster.stop()
            return result
        } catch {
            await cluster.stop()
            if Task.isCancelled { throw Failure("interrupted: every node stopped and the temporary files removed") }
            throw error
        }
    }

    // MARK: Phases

    private func measure(
        in folder: String, cluster: BenchCluster, progress: @escaping @Sendable (Event) -> Void
    ) async throws -> Result {
        let runStarted = ContinuousClock.now
        progress(.step("issuing keys for \(nodes) nodes"))
        let names = (0..<nodes).map { "bench-data-\($0)" }
        let keys = KeyStore(directory: folder)
        let now = WallClock.now().unixSeconds
        do {
            try keys.createAuthority(durationSeconds: 86_400, now: now - 60)
            for name in names { _ = try keys.issue(name: name, durationSeconds: 86_400, now: now - 60) }
        } catch {
            throw Failure("cannot issue benchmark keys in \(folder): \(error)")
        }

        progress(.step("starting \(nodes) nodes"))
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let group = MultiThreadedEventLoopGroup.singleton
        let ringStarted = ContinuousClock.now
        for name in names {
            try Task.checkCancellation()
            let seeds = cluster.nodes.first.map { [$0.address] } ?? []
            let options = NodeOptions(name: name, seeds: seeds, keysDirectory: folder, dataDirectory: folder + "/data")
            do {
                cluster.add(try await NodeHost.start(options, group: group, logger: logger))
            } catch {
                throw Failure("cannot start node \(name): \(error)")
            }
            progress(.advanced(done: cluster.nodes.count, total: nodes, unit: "nodes started"))
        }

        progress(.step("waiting for an exact ring"))
        let nodes = cluster.nodes
        guard try await Self.poll(seconds: ringSeconds, { await NodeHost.ringIsExact(nodes) }) else {
            throw Failure("the ring of \(nodes.count) nodes was not exact after \(Int(ringSeconds)) s")
        }
        let ringSeconds = Self.seconds(since: ringStarted)

        progress(.step("writing a \(fileBytes >> 20) MB random file"))
        let input = folder + "/" + Self.fileName
        try Self.writeRandomFile(input, bytes: fileBytes) { done in
            progress(.advanced(done: done >> 20, total: fileBytes >> 20, unit: "MB generated"))
        }

        // Largest pieces first: a delete costs a durable tombstone per key on every replica, so the
        // file of the most pieces goes last, where stopping the cluster replaces its delete.
        var runs: [Int: PieceRun] = [:]
        let client = DataClient(node: nodes[0])
        let order = Set(pieceSizes).sorted(by: >)
        for (index, pieceSize) in order.enumerated() {
            runs[pieceSize] = try await measure(
                pieceSize: pieceSize, input: input, folder: folder, client: client, nodes: nodes,
                delete: index < order.count - 1, progress: progress)
        }

        var lookupRun: LookupRun?
        var fingersExact = true
        if lookups > 0 {
            progress(.step("waiting for every finger table"))
            fingersExact = try await Self.poll(seconds: 30, { await Self.fingersAreExact(nodes) })
            progress(.step("\(lookups) lookups, \(lookupWindow) at a time"))
            lookupRun = try await measureLookups(on: nodes, progress: progress)
        }
        return Result(
            pieceRuns: distinctPieceSizes.compactMap { runs[$0] }, lookups: lookupRun, ringSeconds: ringSeconds,
            fingersExact: fingersExact, totalSeconds: Self.seconds(since: runStarted))
    }

    /// Writes, reads back and checks the file at one piece size, then deletes it if asked.
    private func measure(
        pieceSize: Int, input: String, folder: String, client: DataClient, nodes: [NodeHost], delete: Bool,
        progress: @escaping @Sendable (Event) -> Void
    ) async throws -> PieceRun {
        let label = "\(pieceSize)-byte pieces"
        progress(.step("writing at \(label)"))
        let written: WriteSummary
        do {
            written = try await client.write(
                file: input, pieceSize: pieceSize, progress: Self.megabytes("MB written", progress))
        } catch {
            throw Failure("writing at \(label): \(error)")
        }

        progress(.step("reading at \(label)"))
        let output = folder + "/read-\(pieceSize)"
        let read: ReadSummary
        do {
            read = try await client.read(
                written.manifestKey, into: output, progress: Self.megabytes("MB read", progress))
        } catch {
            throw Failure("reading at \(label): \(error)")
        }

        progress(.step("checking the file read at \(label)"))
        if let offset = try Self.firstDifference(input, read.path) {
            throw Failure("the file read back at \(label) differs from the one written, from byte \(offset)")
        }
        try? FileManager.default.removeItem(atPath: output)

        var deleteSeconds: Double?
        if delete {
            progress(.step("deleting at \(label)"))
            let deleteStarted = ContinuousClock.now
            do {
                _ = try await client.delete(written.manifestKey)
            } catch {
                throw Failure("deleting at \(label): \(error)")
            }
            // A file of one piece is one blob (inside its manifest); else its pieces and manifest.
            let inline = Manifest.isInline(fileSize: written.bytes, pieceSize: UInt32(clamping: pieceSize))
            let blobs = inline ? 1 : written.pieces + 1
            try await Self.waitUntilEmpty(nodes, keys: blobs, progress: progress)
            deleteSeconds = Self.seconds(since: deleteStarted)
        }
        return PieceRun(
            pieceSize: pieceSize, bytes: Int(written.bytes), pieces: written.pieces, replicas: written.replicas,
            writeSeconds: written.seconds, readSeconds: read.seconds, deleteSeconds: deleteSeconds)
    }

    /// `lookups` lookups of random keys from random nodes, `lookupWindow` in flight at once.
    private func measureLookups(
        on nodes: [NodeHost], progress: @escaping @Sendable (Event) -> Void
    ) async throws -> LookupRun {
        let started = ContinuousClock.now
        var succeeded = 0
        var failed = 0
        var hops = 0
        try await withThrowingTaskGroup(of: Int?.self) { group in
            var generator = SystemRandomNumberGenerator()
            var launched = 0
            func launch() {
                let node = nodes[Int.random(in: 0..<nodes.count, using: &generator)]
                let key = NodeID(high: generator.next(), low: generator.next())
                group.addTask { try? await node.lookup(key).hops }
                launched += 1
            }
            while launched < min(lookups, lookupWindow) { launch() }
            while let answer = try await group.next() {
                try Task.checkCancellation()
                if let answer {
                    succeeded += 1
                    hops += answer
                } else {
                    failed += 1
                }
                progress(.advanced(done: succeeded + failed, total: lookups, unit: "lookups"))
                if launched < lookups { launch() }
            }
        }
        guard succeeded > 0 else { throw Failure("every one of \(failed) lookups failed") }
        return LookupRun(
            succeeded: succeeded, failed: failed, window: lookupWindow, seconds: Self.seconds(since: started),
            meanHops: Double(hops) / Double(succeeded))
    }

    // MARK: Cluster state

    /// True when every finger of every node names the first node at or after its start.
    static func fingersAreExact(_ nodes: [NodeHost]) async -> Bool {
        let ids = nodes.map(\.id).sorted()
        guard let lowest = ids.first, ids.count > 1 else { return true }
        for node in nodes {
            let fingers = await node.ring.fingers
            for index in 0..<FingerTable.size {
                let start = fingers.start(index)
                let expected = ids.first(where: { $0 >= start }) ?? lowest
                guard fingers.entries[index]?.id == expected else { return false }
            }
        }
        return true
    }

    /// Waits until no node holds a copy any more (each of the file's `keys` had up to r of them).
    /// Fails when the count stops falling for a minute. Progress counts thousands of copies.
    static func waitUntilEmpty(
        _ nodes: [NodeHost], keys: Int, progress: @escaping @Sendable (Event) -> Void
    ) async throws {
        var remaining = Int.max
        var lastProgress = ContinuousClock.now
        var first: Int?
        while true {
            try Task.checkCancellation()
            var held = 0
            for node in nodes { held += await node.storedCount }
            if held == 0 { return }
            let initial = first ?? held
            first = initial
            progress(.advanced(done: (initial - held) / 1000, total: initial / 1000, unit: "thousand copies removed"))
            if held < remaining {
                remaining = held
                lastProgress = ContinuousClock.now
            } else if seconds(since: lastProgress) > 60 {
                throw Failure(
                    "\(held) copies of the deleted file's \(keys) keys were still stored a minute after the delete")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Polls `condition` every 100 ms for up to `seconds`; true as soon as it holds.
    static func poll(seconds limit: Double, _ condition: () async -> Bool) async throws -> Bool {
        let started = ContinuousClock.now
        while seconds(since: started) < limit {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    // MARK: Files

    /// Writes `bytes` pseudo-random bytes to `path`, 1 MiB at a time (the whole file is never in memory).
    static func writeRandomFile(_ path: String, bytes: Int, progress: (Int) -> Void) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw Failure("cannot create \(path)") }
        defer { try? handle.close() }
        var generator = Xoshiro256(seed: SystemRandomNumberGenerator())
        let chunkBytes = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        var done = 0
        while done < bytes {
            try Task.checkCancellation()
            chunk.withUnsafeMutableBytes { buffer in
                for offset in stride(from: 0, to: chunkBytes, by: 8) {
                    buffer.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
                }
            }
            let count = min(chunkBytes, bytes - done)
            do {
                try handle.write(contentsOf: chunk.prefix(count))
            } catch {
                throw Failure("cannot write \(path): \(error.localizedDescription)")
            }
            done += count
            progress(done)
        }
    }

    /// The offset of the first byte where the two files differ (or where the shorter one ends);
    /// nil when they are identical.
    static func firstDifference(_ first: String, _ second: String) throws -> Int? {
        guard let a = FileHandle(forReadingAtPath: first) else { throw Failure("cannot open \(first)") }
        defer { try? a.close() }
        guard let b = FileHandle(forReadingAtPath: second) else { throw Failure("cannot open \(second)") }
        defer { try? b.close() }
        var offset = 0
        while true {
            let left: Data
            let right: Data
            do {
                left = try a.read(upToCount: 1 << 20) ?? Data()
                right = try b.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw Failure("cannot compare \(first) with \(second): \(error.localizedDescription)")
            }
            if left != right {
                let same = zip(left, right).prefix { $0 == $1 }.count
                return offset + same
            }
            if left.isEmpty { return nil }
            offset += left.count
        }
    }

    // MARK: Helpers

    /// A `DataProgress` that reports whole MB, once per MB.
    static func megabytes(_ unit: String, _ progress: @escaping @Sendable (Event) -> Void) -> DataProgress {
        let gate = MegabyteGate()
        return { done, total in
            let megabytes = Int(done >> 20)
            guard gate.passes(megabytes) else { return }
            progress(.advanced(done: megabytes, total: Int(total >> 20), unit: unit))
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Lets a value through once each time it changes.
private final class MegabyteGate: Sendable {
    private let last = Mutex(-1)

    func passes(_ value: Int) -> Bool {
        last.withLock { last in
            guard value != last else { return false }
            last = value
            return true
        }
    }
}

/// The nodes of one run, which a cancellation stops from outside the run's task.
private final class BenchCluster: Sendable {
    private let started = Mutex<[NodeHost]>([])

    var nodes: [NodeHost] { started.withLock { $0 } }

    func add(_ node: NodeHost) { started.withLock { $0.append(node) } }

    /// Stops every node, without a leave announcement.
    func stop() async {
        for node in nodes { await node.shutdown(graceful: false) }
    }

    /// Starts stopping every node (from a cancellation handler, which cannot wait).
    func stopSoon() {
        let nodes = nodes
        Task { for node in nodes { await node.shutdown(graceful: false) } }
    }
}

/// xoshiro256**: fast pseudo-random bytes for the benchmark's file (not for keys or secrets).
private struct Xoshiro256: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: some RandomNumberGenerator) {
        var source = seed
        state = (source.next(), source.next(), source.next(), source.next() | 1)
    }

    mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }
}
