// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title LabourLedger
/// @notice Anchors Merkle roots of signed labour-provenance entries. Only roots go on chain:
/// entry bodies and salts stay off chain, and anyone holding an entry and its proof can check it.
contract LabourLedger is AccessControl {
    bytes32 public constant BRAND_ROLE = keccak256("BRAND_ROLE");
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");
    bytes32 public constant SUPPLIER_ROLE = keccak256("SUPPLIER_ROLE");
    bytes32 public constant GRIEVANCE_CHANNEL_ROLE = keccak256("GRIEVANCE_CHANNEL_ROLE");

    /// @dev One storage slot per root (160 + 32 + 32 + 32 bits), so `anchor` writes one slot.
    struct Anchor {
        address submitter;
        uint32 blockNumber;
        uint32 timestamp;
        uint32 size;
    }

    mapping(bytes32 root => Anchor) private _anchors;

    /// @dev How many roles each account holds, kept by `_grantRole`/`_revokeRole`, so that
    /// "holds any role" is one storage read instead of one per role.
    mapping(address account => uint256) private _roleCount;

    /// @dev The brand that granted each supplier its role: only it (or the admin) may revoke it.
    mapping(address supplier => address brand) private _onboardedBy;

    event Anchored(bytes32 indexed root, address indexed submitter, uint64 size);

    /// @notice One per entry whose omission would change a verdict (an audit, a finding update,
    /// a revocation, a grievance), so a verifier can ask the chain what exists about a subject.
    /// Root and submitter are those of the `Anchored` event in the same transaction.
    event Indexed(bytes32 indexed subject, bytes32 entryId);

    error EmptyBatch();
    error BatchTooLarge(uint64 size);
    error RootAlreadyAnchored(bytes32 root);
    error NotAMember(address account);
    error ZeroRoot();
    error IndexMismatch(uint256 subjects, uint256 entryIds, uint64 size);
    error NotOnboardingBrand(address account, address brand);

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRoleAdmin(SUPPLIER_ROLE, BRAND_ROLE);
        _setRoleAdmin(GRIEVANCE_CHANNEL_ROLE, DEFAULT_ADMIN_ROLE);
    }

    /// @notice Record `root`, the Merkle root of a batch of `size` entries. Any role may anchor.
    function anchor(bytes32 root, uint64 size) external {
        _anchor(root, size);
    }

    /// @notice `anchor`, and index `entryIds[i]` under `subjects[i]` for the entries a
    /// verifier must be able to find without the brand's help.
    function anchorIndexed(
        bytes32 root,
        uint64 size,
        bytes32[] calldata subjects,
        bytes32[] calldata entryIds
    ) external {
        uint256 n = subjects.length;
        if (n != entryIds.length || n > size) revert IndexMismatch(n, entryIds.length, size);
        _anchor(root, size);
        bytes32 topic = Indexed.selector;
        // emit Indexed(subjects[i], entryIds[i]) for each i, read straight from calldata, so an
        // entry costs little more than its log and calldata (budget: 3,000 gas per entry).
        assembly ("memory-safe") {
            let subject := subjects.offset
            let entryId := entryIds.offset
            for { let end := add(subject, shl(5, n)) } lt(subject, end) {
                subject := add(subject, 0x20)
                entryId := add(entryId, 0x20)
            } {
                mstore(0, calldataload(entryId))
                log2(0, 0x20, topic, calldataload(subject))
            }
        }
    }

    function _anchor(bytes32 root, uint64 size) private {
        if (_roleCount[msg.sender] == 0) revert NotAMember(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        if (size == 0) revert EmptyBatch();
        if (size > type(uint32).max) revert BatchTooLarge(size);
        if (_anchors[root].submitter != address(0)) revert RootAlreadyAnchored(root);
        _anchors[root] = Anchor(msg.sender, uint32(block.number), uint32(block.timestamp), uint32(size));
        emit Anchored(root, msg.sender, size);
    }

    /// @notice Who anchored `root`, in which block, when, and how many entries it covers.
    /// All zero when `root` was never anchored.
    function anchorOf(bytes32 root)
        external
        view
        returns (address submitter, uint64 blockNumber, uint64 timestamp, uint64 size)
    {
        Anchor memory a = _anchors[root];
        return (a.submitter, a.blockNumber, a.timestamp, a.size);
    }

    /// @notice Whether `entryId` is leaf `index` of the `size`-leaf RFC 6962 tree with `root`
    /// (keccak256, leaf prefix 0x00, node prefix 0x01), checked as in RFC 9162 section 2.1.3.2.
    /// `root` must be anchored here with exactly `size` entries: a path can also lead to the
    /// root from another (index, size), which would let a caller claim a leaf it is not.
    function verifyInclusion(
        bytes32 entryId,
        uint64 index,
        uint64 size,
        bytes32[] calldata proof,
        bytes32 root
    ) external view returns (bool) {
        if (_anchors[root].size != size || index >= size) return false;
        uint64 fn = index;
        uint64 sn = size - 1;
        bytes32 r = keccak256(abi.encodePacked(bytes1(0x00), entryId));
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = keccak256(abi.encodePacked(bytes1(0x01), proof[i], r));
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = keccak256(abi.encodePacked(bytes1(0x01), r, proof[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }

    /// @notice The brand that granted `account` its SUPPLIER role (zero if none holds it).
    function supplierOnboardedBy(address account) external view returns (address) {
        return _onboardedBy[account];
    }

    /// @notice As AccessControl's, except that a SUPPLIER role can only be revoked by the brand
    /// that granted it or by the admin: one brand cannot cut off another brand's suppliers.
    function revokeRole(bytes32 role, address account) public override {
        address sender = _msgSender();
        if (role != SUPPLIER_ROLE) return super.revokeRole(role, account);
        if (!hasRole(DEFAULT_ADMIN_ROLE, sender)) {
            _checkRole(BRAND_ROLE, sender);
            address brand = _onboardedBy[account];
            if (brand != address(0) && brand != sender) revert NotOnboardingBrand(account, brand);
        }
        _revokeRole(role, account);
    }

    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) ++_roleCount[account];
        if (granted && role == SUPPLIER_ROLE) _onboardedBy[account] = _msgSender();
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked) --_roleCount[account];
        if (revoked && role == SUPPLIER_ROLE) delete _onboardedBy[account];
    }
}
