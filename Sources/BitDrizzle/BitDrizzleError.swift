import DrizzleCore
import DrizzleNode

/// Everything a `BitDrizzleNode` method can fail with. Each description is one line that names
/// the problem and what to do.
public enum BitDrizzleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The node has not been started (`start()`, or `run()` in a `ServiceGroup`).
    case notStarted
    /// The node was stopped; make a new one to run again.
    case stopped
    /// The node could not start: its key or certificate, its data folder, or its address.
    case cannotStart(String)
    /// A node of this name already runs on this data folder (in this process or another, whose
    /// pid it wrote into the lock file, when it got that far).
    case alreadyRunning(name: String, pid: Int32?, lockFile: String)
    /// The node's certificate is no longer valid.
    case certificateExpired(name: String, notAfter: Int64)
    /// The node joined moments ago and is still stepping into the cluster's event order, or has
    /// members but has not heard from them yet.
    case notJoined
    case topicEmpty
    case topicTooLong(bytes: Int, limit: Int)
    case payloadTooLarge(bytes: Int, limit: Int)
    /// Not 32 hex digits.
    case notAKey(String)
    /// Nothing is stored under the key (or it was deleted).
    case unknownKey(String)
    /// A piece of the file could not be read from any replica, or the file read back damaged.
    case dataUnavailable(String)
    /// A local file could not be read or written.
    case file(String)
    /// No route on the ring answered.
    case lookupFailed(String)
    /// A replica did not answer in time.
    case noAnswer(String)
    /// The calling task was cancelled before the operation finished (Ctrl-C at the prompt).
    case cancelled
    /// A join that cannot be made as asked (the seed is this node itself).
    case cannotJoin(String)
    /// No seed gave an authenticated answer to the join in time; the node keeps asking.
    case noSeedAnswered([String])

    public var description: String {
        switch self {
        case .notStarted: "the node is not running: call start() or run it in a ServiceGroup first"
        case .stopped: "the node has stopped: create and start a new BitDrizzleNode"
        case .cannotStart(let reason): "the node cannot start: \(reason)"
        case .alreadyRunning(let name, let pid, let lockFile):
            NodeLock.Failure.alreadyRunning(name: name, pid: pid, lockFile: lockFile).description
        case .certificateExpired(let name, let notAfter):
            "the certificate of \(name) expired at \(notAfter) (Unix seconds): issue a new one with `drizzle-keys rotate \(name)`"
        case .notJoined:
            "the node is still stepping into the cluster's event order (it joined moments ago): try again in a few seconds"
        case .topicEmpty: "the event needs a topic"
        case .topicTooLong(let bytes, let limit): "the topic is \(bytes) bytes; the most is \(limit): use a shorter topic"
        case .payloadTooLarge(let bytes, let limit):
            "the payload is \(bytes) bytes; the most is \(limit): store larger data as a file (WN at the prompt, write(file:) in the library) and publish its key"
        case .notAKey(let text): "'\(text)' is not a key: give the 32 hex digits a write returned"
        case .unknownKey(let key): "no data under \(key): check the key, or whether it was deleted"
        case .dataUnavailable(let reason): "\(reason)"
        case .file(let reason): reason
        case .lookupFailed(let reason): reason
        case .noAnswer(let reason): reason
        case .cannotJoin(let reason): "cannot join: \(reason)"
        case .noSeedAnswered(let seeds):
            "no authenticated answer from \(seeds.joined(separator: ", ")) yet: nothing listens there, or it is not a node of this cluster (its certificate must come from a CA in this node's bundle.crt); this node keeps asking every probe interval"
        case .cancelled:
            "cancelled before it finished (a write cut short leaves the pieces it stored without a manifest: write the file again)"
        }
    }

    init(_ error: PublishError) {
        switch error {
        case .topicEmpty: self = .topicEmpty
        case .topicTooLong(let bytes): self = .topicTooLong(bytes: bytes, limit: BusEvent.maximumTopicBytes)
        case .payloadTooLarge(let bytes): self = .payloadTooLarge(bytes: bytes, limit: BusEvent.maximumPayloadBytes)
        case .notInStep: self = .notJoined
        }
    }

    /// Maps the runtime's data errors (and any other) to the library's.
    init(_ error: any Error) {
        if let known = error as? BitDrizzleError {
            self = known
            return
        }
        if error is CancellationError {
            self = .cancelled
            return
        }
        if let failure = error as? LookupFailure {
            self = .lookupFailed(failure.description)
            return
        }
        guard let data = error as? DataError else {
            self = .file("\(error)")
            return
        }
        switch data {
        case .stopped: self = .stopped
        case .notAKey(let text): self = .notAKey(text)
        case .notFound(let key): self = .unknownKey(key.description)
        case .noAnswer: self = .noAnswer(data.description)
        case .lookup(let failure): self = .lookupFailed(failure.description)
        case .file, .badPieceSize, .pieceSizeTooSmall: self = .file(data.description)
        case .notAManifest, .pieceUnavailable, .pieceNotStored, .fileDamaged: self = .dataUnavailable(data.description)
        }
    }
}
