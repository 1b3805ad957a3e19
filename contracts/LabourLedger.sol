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

    event Anchored(bytes32 indexed root, address indexed submitter, uint64 size);

    error EmptyBatch();
    error BatchTooLarge(uint64 size);
    error RootAlreadyAnchored(bytes32 root);
    error NotAMember(address account);

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRoleAdmin(SUPPLIER_ROLE, BRAND_ROLE);
    }

    /// @notice Record `root`, the Merkle root of a batch of `size` entries. Any role may anchor.
    function anchor(bytes32 root, uint64 size) external {
        if (_roleCount[msg.sender] == 0) revert NotAMember(msg.sender);
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
    function verifyInclusion(
        bytes32 entryId,
        uint64 index,
        uint64 size,
        bytes32[] calldata proof,
        bytes32 root
    ) external pure returns (bool) {
        if (index >= size) return false;
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

    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) ++_roleCount[account];
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked) --_roleCount[account];
    }
}
