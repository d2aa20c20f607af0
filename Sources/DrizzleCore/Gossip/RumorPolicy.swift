/// When a node loses interest in a rumor, after Demers et al. 1987 ("Epidemic algorithms for
/// replicated database maintenance", §1.4): the variants the paper compares.
public struct RumorPolicy: Hashable, Sendable {
    /// Whether the sender learns that the recipient already knew the rumor.
    public enum Feedback: String, Hashable, Sendable, CaseIterable {
        /// Only unnecessary contacts (the recipient already knew) count toward losing interest.
        case feedback
        /// Every contact counts, whatever the recipient knew.
        case blind
    }

    /// How counted contacts turn into losing interest.
    public enum Stop: String, Hashable, Sendable, CaseIterable {
        /// Lose interest after `k` counted contacts.
        case counter
        /// Lose interest with probability 1/k at each counted contact.
        case coin
    }

    /// Who carries rumors in a contact.
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// The caller sends its hot rumors.
        case push
        /// The caller asks; the callee sends its hot rumors.
        case pull
        /// Both, in one exchange.
        case pushPull = "push-pull"
    }

    public var feedback: Feedback
    public var stop: Stop
    public var k: Int
    public var mode: Mode
    /// Partners contacted per gossip round.
    public var fanout: Int
    public var transmitLimit: TransmitLimit
    /// A node sends a rumor at least this many times before the stop rule may cool it (the transmit
    /// limit still applies). 0, Demers' model: the stop rule alone. Nodes that push new events to
    /// `fanout` members at once need it: nearly everyone then knows the rumor, so the first round's
    /// feedback would cool it everywhere before the few the push missed were reached.
    public var minimumTransmits: Int

    public init(
        feedback: Feedback = .feedback, stop: Stop = .counter, k: Int = 3, mode: Mode = .push, fanout: Int = 1,
        transmitLimit: TransmitLimit = .unlimited, minimumTransmits: Int = 0
    ) {
        self.feedback = feedback
        self.stop = stop
        self.k = max(1, k)
        self.mode = mode
        self.fanout = max(1, fanout)
        self.transmitLimit = transmitLimit
        self.minimumTransmits = max(0, minimumTransmits)
    }

    /// The variant's name as the CLI spells it: `feedback-counter`, `blind-coin`, ….
    public var variantName: String { "\(feedback.rawValue)-\(stop.rawValue)" }

    /// Parses a variant name into feedback and stop rules.
    public static func variant(named name: String) -> (Feedback, Stop)? {
        let parts = name.split(separator: "-")
        guard parts.count == 2, let feedback = Feedback(rawValue: String(parts[0])),
            let stop = Stop(rawValue: String(parts[1]))
        else { return nil }
        return (feedback, stop)
    }

    /// Whether a contact that was necessary or not (`recipientKnew`) makes the sender lose
    /// interest, given how many contacts were counted before it.
    func losesInterest(
        recipientKnew: Bool, countedBefore: Int, using generator: inout some RandomNumberGenerator
    ) -> (counts: Bool, stop: Bool) {
        let counts = feedback == .blind || recipientKnew
        guard counts else { return (false, false) }
        switch stop {
        case .counter: return (true, countedBefore + 1 >= k)
        case .coin: return (true, Int.random(in: 0..<k, using: &generator) == 0)
        }
    }
}
