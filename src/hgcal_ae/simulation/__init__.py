"""Parameterised EM showers: the Grindhammer–Peters (GFlash) kernels, their media, digitisation.

Submodules (each name is imported from the module that defines it):

* :mod:`~hgcal_ae.simulation.medium`: effective parameters of a sampling medium, the 2018
  CE-E cassette;
* :mod:`~hgcal_ae.simulation.gflash`: longitudinal Γ profiles and their fluctuations
  (hep-ex/0001020); :mod:`~hgcal_ae.simulation.gflash_radial`: radial profiles, spot counts;
* :mod:`~hgcal_ae.simulation.landau`: energy deposits of minimum-ionising particles;
* :mod:`~hgcal_ae.simulation.showers`: showers down to silicon cells;
  :mod:`~hgcal_ae.simulation.digitisation`: noise, threshold and the energy reconstruction;
* :mod:`~hgcal_ae.simulation.run`: the public ``simulate_batch`` and the events file.
"""
