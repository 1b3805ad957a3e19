"""Cheap key encryption in the CLI processes tests start (their PYTHONPATH names this folder).

The product has no switch for it: keystores are always written at full scrypt cost,
except here, where only throwaway test keys are made.
"""

import labourledger.keys

labourledger.keys.SCRYPT_N = 2**10
