/// The version `slipway --version` prints. Unreleased builds carry `-dev`.
public enum SlipwayVersion {
    public static let current = "0.1.0-dev"
}
