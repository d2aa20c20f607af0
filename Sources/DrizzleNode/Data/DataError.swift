public import DrizzleCore

/// Why a data command (write, read, delete, lookup) failed, in one line that says what to do.
public enum DataError: Error, Sendable, CustomStringConvertible {
    case stopped
    case noAnswer(String)
    case notAKey(String)
    case notFound(NodeID)
    case notAManifest(NodeID, reason: String)
    case pieceUnavailable(NodeID, index: Int)
    case pieceNotStored(NodeID)
    case fileDamaged(expected: NodeID, found: NodeID)
    case pieceSizeTooSmall(minimum: Int)
    case badPieceSize(Int)
    case file(String)
    case lookup(LookupFailure)

    public var description: String {
        switch self {
        case .stopped: "the node is stopping"
        case .noAnswer(let address): "no answer from \(address) in time; the node may have failed — try again"
        case .notAKey(let text): "'\(text)' is not a key: give the 32 hex digits WN printed"
        case .notFound(let key): "no data under \(key): check the key (WN prints it) or whether it was deleted"
        case .notAManifest(let key, let reason):
            "\(key) is not a file manifest (\(reason)): give the key WN printed, not a piece's"
        case .pieceUnavailable(let key, let index):
            "piece \(index) (\(key)) is on no reachable replica: the file cannot be rebuilt now — try again after the ring repairs"
        case .pieceNotStored(let key): "no replica accepted piece \(key): check the nodes' disks and logs, then write again"
        case .fileDamaged(let expected, let found):
            "the reassembled file hashes to \(found), not \(expected): nothing was written; read again"
        case .pieceSizeTooSmall(let minimum):
            "the piece size is too small for a file this big: use at least \(minimum) bytes"
        case .badPieceSize(let size): "piece size \(size) is out of range: use 1 to \(DataClient.maximumPieceSize) bytes"
        case .file(let text): text
        case .lookup(let failure): failure.description
        }
    }
}
