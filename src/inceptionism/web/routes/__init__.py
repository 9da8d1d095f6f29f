"""The API's routes: jobs, and the catalog of what there is to dream with."""
