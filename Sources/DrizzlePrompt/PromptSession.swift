public import BitDrizzle
public import DrizzleConfig
import DrizzleCore
import DrizzleCrypto
import Foundation
public import DrizzleNode
public import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// What the prompt does: runs each `PromptCommand` against the local node and, in multi mode,
/// the nodes it started, and answers with lines of text. The `drizzle` prompt (terminal or pipe)
/// is a thin loop around this type. It is a client of the library: every node is a
/// `BitDrizzleNode`, and every command goes through its API; only `RI`, the ring walk and the
/// bus's counters read the runtime underneath (diagnostics the library does not publish).
public actor PromptSession {
    public let configuration: DrizzleConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private var local: BitDrizzleNode?
    private var cluster: [BitDrizzleNode] = []
    /// Node ids (32 hex digits) of this session's nodes → their names, for event lines.
    private var names: [String: String] = [:]
    /// The latest delivered events, oldest first (at most 1,000).
    private var recent: [Event] = []
    private var entry: String?
    private var control: ControlSocket?
    /// Shows a long write's or read's progress (the prompt sets it on a terminal).
    private var progress: DataProgress?
    /// Topics `SUB` follows (`*`: all).
    private var subscriptions: Set<String> = []
    private var noticeSink: AsyncStream<String>.Continuation?
    private var watcher: Task<Void, Never>?
    private var handlerTask: Task<Void, Never>?
    /// The session's nodes warn of expiring certificates in one line (its start lines say it first).
    private let expiryWarnings = ExpiryWarnings()

    public init(configuration: DrizzleConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Sets where long writes and reads report their progress.
    public func showProgress(with progress: DataProgress?) { self.progress = progress }

    /// The control socket of the node called `name`: `<data.dir>/<name>.sock`.
    public static func controlPath(for name: String, in configuration: DrizzleConfiguration) -> String {
        let folder = configuration.data.directory.hasSuffix("/") ? String(configuration.data.directory.dropLast()) : configuration.data.directory
        return "\(folder)/\(name).sock"
    }

    /// Makes sure a CA and the local node's key exist (a development CA is issued on first run,
    /// through the same `KeyStore` as `drizzle-keys`), then starts the local node and its control socket.
    public func start() async throws -> [String] {
        var lines = try ensureKeys(for: [nodeName(0)])
        let node = BitDrizzleNode(options: options(for: 0, seeds: configuration.net.seeds), configuration: configuration, logger: logger)
        try await node.start()
        lines.append("local node \(node.name) listening on \(await node.address ?? "?"), id \(await node.id ?? "?")")
        return lines + (await adopt(node))
    }

    /// Serves an already running node (an agent): its control socket answers prompt commands.
    public func adopt(_ node: BitDrizzleNode) async -> [String] {
        local = node
        if let id = await node.id { names[id] = node.name }
        let events = await node.events()
        watcher = Task { [weak self] in
            for await event in events { await self?.notice(event) }
        }
        let path = Self.controlPath(for: node.name, in: configuration)
        do {
            control = try await ControlSocket.listen(
                at: path, group: group, logger: logger,
                handler: { [weak self] line in
                    guard let self else { return ControlResponse(ok: false, error: "the node is stopping") }
                    return await self.answer(line)
                },
                events: { [weak node] in
                    guard let source = await node?.events() else { return nil }
                    return Self.controlEvents(source)
                })
            return ["control socket \(path) (drizzle attach \(path))"]
        } catch {
            return ["\(error)"]
        }
    }

    /// Answers one line received on the control socket.
    public func answer(_ line: String) async -> ControlResponse {
        let command: PromptCommand
        do {
            command = try PromptCommand(parsing: line)
        } catch {
            return ControlResponse(ok: false, error: error.description)
        }
        if command == .localListener {
            return ControlResponse(ok: true, lines: ["control socket \(control?.path ?? "?") answers for \(local?.name ?? "no node")"])
        }
        let (lines, done) = await run(command)
        return ControlResponse(ok: true, lines: lines, done: done)
    }

    /// Runs one command; `done` is true after `X`.
    public func run(_ command: PromptCommand) async -> (lines: [String], done: Bool) {
        switch command {
        case .help:
            return (PromptCommand.catalog.map { "\($0.command.padding(28)) \($0.meaning)" }, false)
        case .localListener:
            return (await checkListener(), false)
        case .multiMode:
            return (await multiMode(), false)
        case .findNetwork:
            return (await findNetwork(), false)
        case .joinNetwork:
            return (await joinNetwork(), false)
        case .leaveNetwork:
            guard let local else { return (["no local node"], false) }
            try? await local.leave()
            return (["\(local.name) announced that it leaves; JN joins again"], false)
        case .size:
            return (await size(), false)
        case .routingInfo:
            return (await routingInfo(), false)
        case .members:
            return (await memberTable(), false)
        case .locateHash(let text):
            return (await locate(text), false)
        case .write(let scope, let file, let pieceSize):
            return (await write(scope, file: file, pieceSize: pieceSize), false)
        case .read(let scope, let key):
            return (await read(scope, key: key), false)
        case .delete(let scope, let key):
            return (await delete(scope, key: key), false)
        case .publish(let topic, let payload):
            return (await publish(topic: topic, payload: payload), false)
        case .subscribe(let topic):
            guard let topic else {
                return ([subscriptions.isEmpty ? "no subscriptions (SUB <topic> or SUB * follows events)" : "subscribed to " + subscriptions.sorted().joined(separator: ", ")], false)
            }
            subscriptions.insert(topic)
            return (["subscribed to \(topic): its events print as they are delivered (EV shows the latest)"], false)
        case .unsubscribe(let topic):
            let removed = subscriptions.remove(topic) != nil
            return ([removed ? "unsubscribed from \(topic)" : "not subscribed to \(topic) (SUB lists subscriptions)"], false)
        case .events(let count):
            return (await recentEvents(count ?? 20), false)
        case .clock:
            return (await clockReport(), false)
        case .keys:
            return (await keyReport(), false)
        case .exit:
            let count = cluster.count + (local == nil ? 0 : 1)
            await stopAll()
            return (["stopped \(count) node\(count == 1 ? "" : "s"); goodbye"], true)
        }
    }

    /// Stops every node this session started, gracefully.
    public func stopAll() async {
        handlerTask?.cancel()
        watcher?.cancel()
        watcher = nil
        noticeSink?.finish()
        await control?.close()
        control = nil
        for node in cluster { await node.stop() }
        cluster = []
        if let local { await local.stop() }
        local = nil
        try? await group.shutdownGracefully()
    }

    // MARK: Bus and clock

    /// Runs `program` for every event the local node delivers (`--event-handler`, see
    /// `EventHandler`): in the total order, or as events arrive (`--event-order arrival`).
    public func runEventHandler(_ program: String, delivery: EventDelivery = .totalOrder) async -> [String] {
        guard let local else { return ["no local node for the event handler"] }
        let events = await local.events(delivery)
        let handler = EventHandler(program: program, node: local.name)
        let logger = self.logger
        handlerTask = Task { await handler.serve(events, logger: logger) }
        let order = delivery == .arrival ? " (as events arrive)" : ""
        return ["event handler for \(local.name)\(order): /bin/sh -c \(program)"]
    }

    /// Lines announcing delivered events of subscribed topics, as they are delivered (the
    /// prompt prints them live).
    public func notices() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        noticeSink?.finish()
        noticeSink = continuation
        return stream
    }

    private func notice(_ event: Event) {
        recent.append(event)
        if recent.count > 1100 { recent.removeFirst(recent.count - 1000) }
        guard subscriptions.contains("*") || subscriptions.contains(event.topic) else { return }
        noticeSink?.yield(describe(event))
    }

    /// One event as the prompt shows it.
    func describe(_ event: Event) -> String {
        let text = event.text ?? "<\(event.payload.count) bytes>"
        let origin = names[event.origin] ?? String(event.origin.prefix(8))
        return "event \(event.topic) lamport \(event.lamport) from \(origin) #\(event.sequence): \(text)"
    }

    /// The control socket's event stream: the library's events as `ControlEvent`s.
    private static func controlEvents(_ source: AsyncStream<Event>) -> AsyncStream<ControlEvent> {
        AsyncStream { continuation in
            let forward = Task {
                for await event in source {
                    continuation.yield(
                        ControlEvent(
                            topic: event.topic, lamport: event.lamport, origin: event.origin, epoch: event.epoch,
                            sequence: event.sequence, physical: event.physicalNanoseconds, payload: event.payload))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in forward.cancel() }
        }
    }

    private func publish(topic: String, payload: String) async -> [String] {
        guard let local else { return ["no local node"] }
        do {
            let event = try await local.publish(topic: topic, payload: Array(payload.utf8))
            return ["published \(topic) at lamport \(event.lamport) (#\(event.sequence) from \(local.name)); it is delivered once stable everywhere"]
        } catch {
            return [error.description]
        }
    }

    private func recentEvents(_ count: Int) async -> [String] {
        guard let local else { return ["no local node"] }
        let chosen = subscriptions.isEmpty || subscriptions.contains("*") ? recent : recent.filter { subscriptions.contains($0.topic) }
        var lines = chosen.suffix(count).map(describe)
        if lines.isEmpty { lines = ["no events delivered yet" + (subscriptions.isEmpty ? "" : " on subscribed topics")] }
        if let bus = await local.runtime?.bus {
            lines.append("bus: lamport \(bus.clock), stable to \(bus.stableTime), \(bus.pendingCount) pending, \(bus.deliveredCount) delivered, \(bus.late) late, \(bus.duplicates) duplicates")
        }
        return lines
    }

    private func clockReport() async -> [String] {
        guard let local else { return ["no local node"] }
        let estimate: ClockInfo
        do {
            estimate = try await local.clock()
        } catch {
            return [error.description]
        }
        let mode = configuration.clock.sync.rawValue
        let reference = configuration.clock.reference.isEmpty ? "" : ", reference \(configuration.clock.reference)"
        let stratum = estimate.stratum.map { ", stratum \($0)" } ?? ""
        return [
            "time      \(Self.clockText(estimate.synchronisedNanoseconds)) (UTC), synchronised: the raw clock plus a correction of \(Self.milliseconds(estimate.correctionNanoseconds)) ms",
            "offset    \(Self.milliseconds(estimate.offsetNanoseconds)) ms: the cluster's time minus this node's synchronised time",
            "drift     \(Self.fixed(estimate.driftPPM, 1)) ppm: this node's raw clock against the cluster's",
            "skew      \(Self.milliseconds(estimate.skewNanoseconds)) ms: the largest difference among this node and the \(estimate.peersSampled) members it sampled",
            "sync      \(mode)\(reference)\(stratum); \(estimate.samples) samples in the window",
        ]
    }

    private func keyReport() async -> [String] {
        guard let local else { return ["no local node"] }
        let status: KeyStatus
        do {
            status = try await local.keyStatus()
        } catch {
            return [error.description]
        }
        let expiry = Date(timeIntervalSince1970: TimeInterval(status.notAfter))
        let days = (status.notAfter - Int64(Date().timeIntervalSince1970)) / 86_400
        let authorities = status.membersTrusting.sorted { $0.key < $1.key }.map { "CA \($0.key) \($0.value)" }
        let versions = status.membersHoldingVersion.sorted { $0.key > $1.key }.map { "v\($0.key) \($0.value)" }
        return [
            "certificate  serial \(status.serial), expires \(ISO8601DateFormatter().string(from: expiry)) (in \(days) days)",
            "trust        CAs \(status.authorities.joined(separator: ", ")); revocation list version \(status.revocationVersion)",
            "cluster      \(status.reporting) of \(status.aliveMembers) alive members reported: "
                + (authorities + ["revocation list " + versions.joined(separator: ", ")]).joined(separator: "; "),
        ]
    }

    private static func milliseconds(_ nanoseconds: Int64) -> String { String((Double(nanoseconds) / 1000).rounded() / 1000) }

    private static func fixed(_ value: Double, _ digits: Int) -> String {
        let scale = digits <= 0 ? 1 : (1...digits).reduce(1.0) { value, _ in value * 10 }
        return String((value * scale).rounded() / scale)
    }

    /// A wall-clock time as ISO 8601 in UTC, to the millisecond (`2026-12-05T02:52:13.123Z`).
    static func clockText(_ nanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds / 1_000_000) / 1000))
    }

    // MARK: Commands

    private func multiMode() async -> [String] {
        guard let local else { return ["no local node"] }
        guard cluster.isEmpty else { return ["multi mode already runs \(cluster.count + 1) nodes"] }
        let count = configuration.net.size
        guard count > 1 else { return ["net.size is 1: nothing more to start"] }
        var lines: [String]
        do {
            lines = try ensureKeys(for: (0..<count).map { nodeName($0) })
        } catch {
            return ["cannot issue keys: \(error)"]
        }
        let seed = await local.address ?? ""
        // Every node's sockets are bound before any node starts: the first nodes' outgoing TCP
        // connections take local ports from the kernel's ephemeral range, which holds the base
        // ports, and must not take a port a later node needs (PortReservation).
        var reservations: [Int: PortReservation] = [:]
        for index in 1..<count {
            let port = configuration.node.peerBasePort + index
            do {
                reservations[index] = try PortReservation.reserve(host: configuration.node.host, port: port)
            } catch {
                lines.append("node \(nodeName(index)) did not start: \(error)")
            }
        }
        for index in 1..<count {
            guard let reservation = reservations.removeValue(forKey: index) else { continue }
            var nodeOptions = options(for: index, seeds: [seed])
            nodeOptions.reservation = reservation
            let node = BitDrizzleNode(options: nodeOptions, configuration: configuration, logger: logger)
            do {
                try await node.start()
                cluster.append(node)
                if let id = await node.id { names[id] = node.name }
            } catch {
                lines.append("node \(nodeName(index)) did not start: \(error)")
            }
        }
        entry = seed
        lines.append("multi mode: started \(cluster.count) nodes on \(configuration.node.host) ports \(configuration.node.peerBasePort + 1)–\(configuration.node.peerBasePort + count - 1), joining \(seed)")
        // Give the joins a moment so SZ right after MM shows the cluster.
        for _ in 0..<40 {
            if await Self.viewSize(local) >= cluster.count + 1 { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        lines.append("view of \(local.name): \(await Self.viewSize(local)) members")
        // And for the ring to settle (every successor list exact), so the first W places every
        // piece on its final replicas and the SZ ring walk sees every node.
        var runtimes: [NodeHost] = []
        for node in [local] + cluster { if let runtime = await node.runtime { runtimes.append(runtime) } }
        for _ in 0..<60 {
            if await NodeHost.ringIsExact(runtimes) { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        lines.append(await ringWalk(local))
        return lines
    }

    /// The original's FN: the configured seed, else the first node of this cluster on the scanned
    /// hosts' base-port range. A port counts only when a node answers a signed certificate exchange
    /// there (`BitDrizzleNode.probe`): any TCP listener is not a node.
    private func findNetwork() async -> [String] {
        guard let local else { return ["no local node"] }
        if let seed = configuration.net.seeds.first {
            entry = seed
            if (try? await local.probe(address: seed)) != nil { return ["entry node \(seed) (configured seed)"] }
            return [
                "entry node \(seed) (configured seed) does not answer as a node of this cluster yet (nothing listens "
                    + "there, or its certificate is from another CA); JN will keep asking it"
            ]
        }
        let own = await local.address
        let base = configuration.node.peerBasePort
        let last = base + max(1, configuration.net.size) - 1
        var listeners = 0
        for host in configuration.net.scanHosts {
            for port in base...last where HostPort(host: host, port: port).description != own {
                guard await Self.answers(host: host, port: port, group: group) else { continue }
                listeners += 1
                let address = HostPort(host: host, port: port).description
                guard let id = try? await local.probe(address: address) else { continue }
                entry = address
                return ["entry node \(address) (node \(id.prefix(8)), found by scanning \(host) ports \(base)–\(last))"]
            }
        }
        let others =
            listeners == 0
            ? "" : "; \(listeners) port\(listeners == 1 ? "" : "s") accepted a connection but gave no authenticated answer (another program, or a node of another CA)"
        return [
            "no entry node found on \(configuration.net.scanHosts.joined(separator: ", ")) ports \(base)–\(last)\(others); start one (MM) or configure net.seeds"
        ]
    }

    private func joinNetwork() async -> [String] {
        guard let local else { return ["no local node"] }
        var lines: [String] = []
        if entry == nil { lines += await findNetwork() }
        guard let entry else { return lines }
        do {
            let members = try await local.join(seeds: [entry], waitingUpTo: .seconds(3))
            // The seed's answer carried its view; give the members it named a moment to answer too.
            for _ in 0..<20 where await Self.viewSize(local) < members { try? await Task.sleep(for: .milliseconds(100)) }
            lines.append("joined through \(entry): \(await Self.viewSize(local)) members in view")
        } catch {
            lines.append(error.description)
        }
        return lines
    }

    private func size() async -> [String] {
        guard let local else { return ["no local node"] }
        let view = await Self.viewSize(local)
        let shown = await local.runtime?.sizeEstimate
        var lines = ["members in this node's view: \(view)", Self.describe(shown, epochCycles: configuration.size.epochCycles)]
        // A newer epoch converging behind an earlier result (the cluster grew, and restarted it).
        if let shown, shown.source != .converging, let running = await local.runtime?.runningSizeEstimate,
            running.epoch > shown.epoch
        {
            lines.append(
                "  next:  \((running.size * 10).rounded() / 10) (epoch \(running.epoch) still converging: "
                    + "\(running.ageCycles) of \(configuration.size.epochCycles) cycles run; it replaces the line above when it ends)")
        }
        return lines + [await ringWalk(local)]
    }

    /// The original's SZ: walk the ring successor by successor (each step a lookup of the id
    /// just after the current node) until it comes back here.
    private func ringWalk(_ local: BitDrizzleNode) async -> String {
        let started = ContinuousClock.now
        guard let me = await local.id, var current = NodeID(hex: me) else { return "ring walk: the node is not running" }
        var count = 1
        var hops = 0
        while count <= 100_000 {
            guard let found = try? await local.lookup(key: current.advanced(byPowerOfTwo: 0).description) else {
                return "ring walk: stopped after \(count) nodes (a lookup failed; the ring may be repairing — try again)"
            }
            hops += found.hops
            if found.owner == me { break }
            if found.owner == current.description { break }
            guard let next = NodeID(hex: found.owner) else { break }
            current = next
            count += 1
            if ContinuousClock.now - started > .seconds(20) {
                return "ring walk: \(count)+ nodes so far (stopped after 20 s)"
            }
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return "ring walk: \(count) node\(count == 1 ? "" : "s") (\(hops) lookup hops, \(Int(milliseconds.rounded())) ms)"
    }

    private func routingInfo() async -> [String] {
        guard let local, let runtime = await local.runtime, let members = try? await local.members() else {
            return ["no local node"]
        }
        var byState: [MemberInfo.State: Int] = [:]
        for member in members.dropFirst() { byState[member.state, default: 0] += 1 }
        let states = [MemberInfo.State.alive, .suspect, .dead, .left].map { "\($0.rawValue) \(byState[$0, default: 0])" }
        let drops = await runtime.drops.nonZero
        let detector = await runtime.failureDetector
        let reopened = await runtime.datagramSocketReopened
        return [
            "id       \(runtime.id)", "name     \(local.name)", "address  \(runtime.address)",
            "members  " + states.joined(separator: ", ") + " (itself not counted)",
            "swim     incarnation \(detector.incarnation), health \(detector.health) (0 is best), "
                + "\(detector.refutations) refutations, \(detector.suspicionsRaised) suspicions raised",
            "udp      socket reopened \(reopened) time\(reopened == 1 ? "" : "s") after a failed send",
            "drops    " + (drops.isEmpty ? "none" : drops.map { "\($0.reason) \($0.count)" }.joined(separator: ", ")),
        ] + (await ringLines(runtime))
    }

    private func ringLines(_ local: NodeHost) async -> [String] {
        let ring = await local.ring
        let replication = await local.replication
        let hops = await local.recentHops
        let fingers = ring.fingers.distinct
        let successor: String = ring.successors.first?.description ?? "none (alone on the ring)"
        let predecessor: String = ring.predecessor?.description ?? "none known"
        let list: String = ring.successors.isEmpty ? "none" : ring.successors.map { $0.id.description }.joined(separator: ", ")
        let plural = fingers.count == 1 ? "" : "s"
        var lines: [String] = [
            "successor    " + successor, "predecessor  " + predecessor, "successors   " + list,
            "fingers      \(ring.fingers.filled) of \(FingerTable.size) entries set, \(fingers.count) distinct node" + plural,
        ]
        for (index, peer) in fingers.prefix(12) { lines.append("  from 2^\(index)".padding(16) + peer.description) }
        if fingers.count > 12 { lines.append("  … \(fingers.count - 12) more") }
        let mean = hops.isEmpty ? 0 : Double(hops.reduce(0, +)) / Double(hops.count)
        lines.append("store        \(await local.storedCount) blobs; \(replication.copiesSent) copies sent to replicas, \(replication.damagedFound) damaged found, \(replication.surplusDropped) surplus dropped")
        lines.append("lookups      \(hops.count) from here, mean \((mean * 100).rounded() / 100) hops")
        return lines
    }

    private func locate(_ text: String) async -> [String] {
        guard let local else { return ["no local node"] }
        do {
            let found = try await local.lookup(key: text)
            return [
                "owner     \(found.owner) \(found.ownerAddress)", "hops      \(found.hops)",
                "replicas  " + found.replicas.map { "\($0.id) \($0.address)" }.joined(separator: ", "),
            ]
        } catch {
            return ["\(error)"]
        }
    }

    private func write(_ scope: PromptCommand.Scope, file: String?, pieceSize: Int?) async -> [String] {
        guard let local else { return ["no local node"] }
        let path = resolve(file ?? configuration.data.file)
        let size = pieceSize ?? configuration.data.pieceSize
        do {
            let summary = try await local.write(
                file: path, pieceSize: size, scope: scope == .network ? .network : .local, progress: progress)
            let rate = summary.seconds > 0 ? Double(summary.bytes) / summary.seconds / 1_048_576 : 0
            let inline = size > 0 && Manifest.isInline(fileSize: summary.bytes, pieceSize: UInt32(clamping: size))
            let pieces =
                "\(summary.pieces) piece\(summary.pieces == 1 ? "" : "s") of \(size) bytes"
                + (inline ? ", inside its manifest," : "")
            let copies: String =
                scope == .network
                ? " on \(summary.replicas) replica\(summary.replicas == 1 ? "" : "s") each" : " to \(local.name)'s store"
            let timing = " in \(Self.seconds(summary.seconds)) s (\(Self.rate(rate)) MiB/s)"
            return ["key \(summary.key)", "wrote \(summary.bytes) bytes in " + pieces + copies + timing]
        } catch {
            return ["\(error)"]
        }
    }

    private func read(_ scope: PromptCommand.Scope, key text: String?) async -> [String] {
        guard let local else { return ["no local node"] }
        let text = text ?? configuration.data.testKey
        let folder = Self.folder(configuration.data.directory) + "/read"
        do {
            let summary = try await local.read(
                key: text, scope: scope == .network ? .network : .local, into: folder, progress: progress)
            let rate = summary.seconds > 0 ? Double(summary.bytes) / summary.seconds / 1_048_576 : 0
            let pieces = "\(summary.pieces) piece\(summary.pieces == 1 ? "" : "s")"
            let timing = "in \(Self.seconds(summary.seconds)) s (\(Self.rate(rate)) MiB/s)"
            let repaired =
                summary.repaired > 0
                ? "; repaired \(summary.repaired) missing or damaged replica cop\(summary.repaired == 1 ? "y" : "ies")" : ""
            return ["read \(summary.bytes) bytes in " + pieces + ", every hash checked, " + timing + repaired, "file \(summary.path)"]
        } catch {
            return ["\(error)"]
        }
    }

    private func delete(_ scope: PromptCommand.Scope, key text: String?) async -> [String] {
        guard let local else { return ["no local node"] }
        let text = text ?? configuration.data.testKey
        do {
            let summary = try await local.delete(key: text, scope: scope == .network ? .network : .local)
            if summary.keptShared > 0 {
                // A file written before pieces were salted: only its manifest went.
                let place = scope == .network ? "from its replicas" : "from \(local.name)'s store"
                return [
                    "deleted its manifest (\(summary.removed) cop\(summary.removed == 1 ? "y" : "ies") removed \(place)); "
                        + "kept its \(summary.keptShared) pieces: the file was written before pieces were salted, and other files may share them"
                ]
            }
            return [
                scope == .network
                    ? "deleted "
                        + (summary.keys == 1
                            ? "1 key (a manifest holding its file)" : "\(summary.keys) keys (manifest and pieces)")
                        + ": \(summary.removed) copies removed from their replicas"
                    : "deleted \(summary.removed) of \(summary.keys) keys from \(local.name)'s store (replicas elsewhere keep theirs)"
            ]
        } catch {
            return ["\(error)"]
        }
    }

    /// A data file as given, else beside the shipped configuration (`config/test_file.txt`).
    private func resolve(_ file: String) -> String {
        if FileSystem.exists(file) || file.hasPrefix("/") { return file }
        let shipped = "config/" + file
        return FileSystem.exists(shipped) ? shipped : file
    }

    private static func folder(_ path: String) -> String { path.hasSuffix("/") ? String(path.dropLast()) : path }

    private static func seconds(_ value: Double) -> String { String((value * 1000).rounded() / 1000) }

    private static func rate(_ value: Double) -> String { String((value * 100).rounded() / 100) }

    private func memberTable() async -> [String] {
        guard let local, let rows = try? await local.members(), let me = rows.first else { return ["no local node"] }
        return ["\("id".padding(32)) \("state".padding(7)) \("address".padding(21)) \("incarnation".padding(11)) serial"]
            + rows.map { member in
                "\(member.id.padding(32)) \(member.state.rawValue.padding(7)) \(member.address.padding(21)) \(String(member.incarnation).padding(11)) \(KeyStore.serialText(member.serial))"
                    + (member.id == me.id ? "  (this node)" : "")
            }
    }

    private func checkListener() async -> [String] {
        guard let local else { return ["no local node is running"] }
        var lines: [String] = []
        if let control {
            do {
                let response = try await ControlSocket.send("LL", to: control.path, group: group)
                lines += response.lines
            } catch {
                lines.append("control socket \(control.path) does not answer: \(error)")
            }
        } else {
            lines.append("no control socket is open")
        }
        if let address = await local.address, let (host, port) = Self.split(address) {
            let up = await Self.answers(host: host, port: port, group: group)
            lines.append(up ? "gossip listener \(address) answers (UDP and TCP on one port)" : "gossip listener \(address) does not answer")
        }
        return lines
    }

    // MARK: Helpers

    /// The SZ line for a gossip estimate (`epochCycles`: the cycles of an epoch, `size.epoch_cycles`).
    static func describe(_ estimate: SizeEstimate?, epochCycles: Int) -> String {
        guard let estimate else { return "gossip estimate: none yet (the first size epoch is still starting)" }
        let size = (estimate.size * 10).rounded() / 10
        let note: String =
            switch estimate.source {
            case .epoch: "\(estimate.instances) instance\(estimate.instances == 1 ? "" : "s"), \(estimate.ageCycles) cycles old"
            case .converging: "still converging: \(estimate.ageCycles) of \(epochCycles) cycles run, no result yet"
            case .peer: "learned from a peer; this node joins the next epoch"
            }
        return "gossip estimate: \(size) (epoch \(estimate.epoch), \(note))"
    }

    /// Alive and suspect members in `node`'s view, itself included (0 when it is not running).
    private static func viewSize(_ node: BitDrizzleNode) async -> Int {
        (try? await node.size().membersInView) ?? 0
    }

    /// Nodes are named by their port (`node-40000`, …): unique on a host, so several prompts
    /// and agents can share one key folder.
    func nodeName(_ index: Int) -> String { "node-\(configuration.node.peerBasePort + index)" }

    private func options(for index: Int, seeds: [String]) -> NodeOptions {
        var options = NodeOptions(
            configuration: configuration, name: nodeName(index), bindHost: configuration.node.host,
            bindPort: configuration.node.peerBasePort + index, seeds: seeds)
        // The nodes of one prompt share a host: none of them takes the advertised address.
        options.advertise = nil
        options.expiryWarnings = expiryWarnings
        return options
    }

    /// Issues a development CA and node keys where missing, saying so.
    private func ensureKeys(for names: [String]) throws -> [String] {
        try DevelopmentKeys.ensure(names, in: configuration.keys.directory)
    }

    private static func split(_ address: String) -> (String, Int)? {
        (try? HostPort(parsing: address)).map { ($0.host, $0.port) }
    }

    /// True when a TCP connection to `host:port` succeeds within 300 ms (a node's TCP listener).
    static func answers(host: String, port: Int, group: MultiThreadedEventLoopGroup) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: group).connectTimeout(.milliseconds(300))
                .channelOption(.socketOption(.so_reuseaddr), value: 1)  // see NodeHost's connections
                .connect(host: host, port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }
}

/// File existence without Foundation's overhead in this module's hot paths.
extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
