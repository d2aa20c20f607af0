/// The parsers a peer, a file or a local client can feed bytes to, each as a libFuzzer target
/// (`scripts/fuzz TARGET SECONDS`; docs/security.md). The same entry points replay the committed
/// corpus and every regression input in the test suite, so what a fuzzing run found stays fixed.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A datagram or TCP stream at the envelope opener (Ed25519, a real trust store); inputs whose
    /// first byte is odd are signed by a known peer first, so the fuzzer reaches the frames.
    case envelope
    /// One frame (type byte, body) through every message decoder; whatever decodes must re-encode to
    /// bytes that decode to the same message.
    case messages
    /// A sequence of frames from three peers, sealed and fed to a whole `NodeCore` (membership,
    /// gossip, ring, data, clock, bus) with virtual time passing between them.
    case node
    /// Certificate and revocation-list decoding, and the trust store's checks of what decodes.
    case certificate
    /// Armored key files: secret and public keys, certificate bundles, revocation lists.
    case keyfile
    /// The YAML configuration file through the whole loader (every key, type and range check).
    case config
    /// Control-socket bytes: line framing, the JSON request, the prompt command it carries.
    case control

    /// What one input did.
    public enum Outcome: Equatable, Sendable {
        /// The input was understood (at least one message decoded, a file loaded, a command parsed).
        case accepted
        /// The input was refused, cleanly.
        case rejected
        /// A property the target checks does not hold (a message that does not survive
        /// re-encoding): a bug, reported by the fuzzer as a crash.
        case broken(String)
    }

    /// Runs one input. Never traps on any input unless the code under test has a bug.
    public func run(_ input: [UInt8]) -> Outcome {
        switch self {
        case .envelope: EnvelopeTarget.run(input)
        case .messages: MessageDecoders.run(input)
        case .node: NodeTarget.run(input)
        case .certificate: CertificateTarget.run(input)
        case .keyfile: KeyFileTarget.run(input)
        case .config: ConfigTarget.run(input)
        case .control: ControlTarget.run(input)
        }
    }

    /// Inputs that reach deep into the target: real, valid encodings for the fuzzer to mutate
    /// (written to `Fuzz/corpus/<target>/` by `scripts/fuzz --seeds`).
    public var seeds: [[UInt8]] {
        switch self {
        case .envelope: EnvelopeTarget.seeds
        case .messages: MessageDecoders.seeds
        case .node: NodeTarget.seeds
        case .certificate: CertificateTarget.seeds
        case .keyfile: KeyFileTarget.seeds
        case .config: ConfigTarget.seeds
        case .control: ControlTarget.seeds
        }
    }
}
