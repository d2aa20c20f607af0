/// Per-sender anti-replay state: for each sender, its newest epoch, the highest sequence number
/// seen in it, and a bitmap of which of the last `size` sequence numbers arrived (the sliding
/// window of IPsec and WireGuard, RFC 6479).
///
/// A sender's epoch changes when it restarts; a newer epoch resets its window, an older one is
/// refused. Only authenticated datagrams reach the window, so its size is bounded by the cluster.
public struct ReplayWindow: Sendable {
    private struct SenderState: Sendable {
        var epoch: UInt32
        var highest: UInt64
        var bits: [UInt64]
    }

    /// How many sequence numbers below the highest one are remembered (a multiple of 64).
    public let size: Int
    private var senders: [NodeID: SenderState] = [:]

    /// A window remembering `size` sequence numbers per sender (rounded up to a multiple of 64, at least 64).
    public init(size: Int = 1024) {
        self.size = max(64, (size + 63) / 64 * 64)
    }

    /// The newest epoch accepted from `sender`, if any.
    public func epoch(of sender: NodeID) -> UInt32? { senders[sender]?.epoch }

    /// Records `sequence` from `sender` in `epoch` and returns `nil` when it is new, `.replay` when
    /// it was seen already, `.tooOld` when it lies below the window or in an older epoch.
    public mutating func accept(sender: NodeID, epoch: UInt32, sequence: UInt64) -> DropReason? {
        guard var state = senders[sender] else {
            senders[sender] = fresh(epoch: epoch, sequence: sequence)
            return nil
        }
        if epoch < state.epoch { return .tooOld }
        if epoch > state.epoch {
            senders[sender] = fresh(epoch: epoch, sequence: sequence)
            return nil
        }
        let width = UInt64(size)
        if sequence > state.highest {
            let advance = sequence - state.highest
            if advance >= width {
                for index in state.bits.indices { state.bits[index] = 0 }
            } else {
                var cleared = state.highest + 1
                while cleared <= sequence {
                    clear(&state.bits, cleared)
                    cleared += 1
                }
            }
            state.highest = sequence
            set(&state.bits, sequence)
            senders[sender] = state
            return nil
        }
        if state.highest - sequence >= width { return .tooOld }
        if isSet(state.bits, sequence) { return .replay }
        set(&state.bits, sequence)
        senders[sender] = state
        return nil
    }

    /// Forgets a sender (a member reaped from the view).
    public mutating func forget(_ sender: NodeID) { senders[sender] = nil }

    /// How many senders have state.
    public var senderCount: Int { senders.count }

    private func fresh(epoch: UInt32, sequence: UInt64) -> SenderState {
        var state = SenderState(epoch: epoch, highest: sequence, bits: Array(repeating: 0, count: size / 64))
        set(&state.bits, sequence)
        return state
    }

    private func slot(_ sequence: UInt64) -> (word: Int, mask: UInt64) {
        let bit = Int(sequence % UInt64(size))
        return (bit / 64, 1 << UInt64(bit % 64))
    }

    private func set(_ bits: inout [UInt64], _ sequence: UInt64) {
        let (word, mask) = slot(sequence)
        bits[word] |= mask
    }

    private func clear(_ bits: inout [UInt64], _ sequence: UInt64) {
        let (word, mask) = slot(sequence)
        bits[word] &= ~mask
    }

    private func isSet(_ bits: [UInt64], _ sequence: UInt64) -> Bool {
        let (word, mask) = slot(sequence)
        return bits[word] & mask != 0
    }
}
