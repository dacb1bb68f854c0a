"""The simulated league: a deterministic generator that writes a season in the raw formats real data comes in.

It only writes files (`season.simulate_season`); the providers in `lib/sources/` read them exactly as they
read real data. Nothing here imports dagster or the providers.

    schedule.py  the regular-season schedule (match-ups, game days, tip times, postponements)
    league.py    rosters, trades, form, injuries, minutes, points and box-score lines
    market.py    the sportsbook market (books, ladders, line moves, the documented inefficiency)
    season.py    runs a season day by day (`simulate_season`) and hands each day to the writers
    writers.py   the four raw formats (nba_api box scores, Odds API snapshots, balldontlie injuries, CDN schedule)
"""
