{#-
    In every version of training_sets: train, val and test are disjoint in time, in that order, with at least
    purge_gap_s (and never less than 5 minutes, docs/ml-anchors §3) between the last row of one split and the first
    row of the next, and the last training label window (timestamp + 10 s) ends at least one label horizon before
    the first val/test feature. Any row returned names the version and the violated rule.
-#}
{%- set p = gold_params() -%}

with

rows_by_split as (
    select
        data_version,
        split,
        min(timestamp) as first_ts,  -- noqa: RF04
        max(timestamp) as last_ts  -- noqa: RF04
    from {{ ref('training_sets') }}
    group by data_version, split
),

pairs as (
    select
        earlier.data_version,
        earlier.split || ' -> ' || later.split as boundary,
        earlier.last_ts,
        later.first_ts
    from rows_by_split as earlier
    inner join rows_by_split as later
        on
            earlier.data_version = later.data_version
            and (
                (earlier.split = 'train' and later.split in ('val', 'test'))
                or (earlier.split = 'val' and later.split = 'test')
            )
),

violations as (
    select
        data_version,
        boundary || ': only ' || (first_ts - last_ts) || ' s between the splits' as problem
    from pairs
    where first_ts - last_ts < greatest({{ p.purge_gap_s }}, 300)
    union all
    select
        data_version,
        boundary || ': the last label window overlaps the next split' as problem
    from pairs
    where first_ts - (last_ts + {{ p.label_horizon_s }}) < {{ p.label_horizon_s }}
    union all
    select
        null as data_version,
        'purge_gap_s = {{ p.purge_gap_s }} is below 5 minutes' as problem
    where {{ p.purge_gap_s }} < 300
)

select * from violations
