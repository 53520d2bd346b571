"""Spreadsheet ledgers (台帐): the platform's member-row exports read into household records.

`format` declares how a sheet maps onto the data contract (bundled: `formats/national.yaml`);
`read` reads `.xlsx` and `.csv` ledgers by a format into the records a JSON line would give.
This is an interface to the engine: it imports the model and the engine, never the reverse.
"""
