"""Built-in mappings for trafficking cases (HTCDS), drug seizures and ACLED violence events.

Every name below is made up; the rows are synthetic.
"""

from __future__ import annotations

from pathlib import Path

from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.schema.model import PropertyType
from cruce.store import open_store
from cruce.store.base import Reject, Store


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _assert_no_dangling(store: Store) -> None:
    schema = default_schema()
    for entity in store.iter_entities():
        for prop, values in entity.properties.items():
            if schema.get(entity.schema).properties[prop].type is PropertyType.ENTITY:
                assert all(store.entity(v) is not None for v in values), (entity.schema, prop)


def _rejects(store: Store) -> list[Reject]:
    return list(store.rejects())


HTCDS_HEADER = (
    "cas_id,cas_open_date,cas_status,vic_id,vic_gender,vic_age_band,vic_citizenship,"
    "vic_country_of_exploitation,hte_exploitation_type,hte_means_of_control,hte_labour_type,"
    "hte_sex_type,hte_recruiter_relation,hte_year,per_id,per_name,per_gender,per_nationality,org_name"
)
HTCDS_ROWS = [
    # one victim, two perpetrators: two rows, one TraffickingCase
    "C-001,2021-03-04,Open,V-1,F,18--20,Guatemala,MX;US,Sexual exploitation;Forced labour,"
    "Debt bondage;Threats,Agriculture,Prostitution,Intimate partner,2020,P-1,Fulano Inventado Uno,M,MX,"
    "Albergue Ficticio A.C.",
    "C-001,2021-03-04,Open,V-1,F,18--20,Guatemala,MX;US,Sexual exploitation;Forced labour,"
    "Debt bondage;Threats,Agriculture,Prostitution,Intimate partner,2020,P-2,Mengana Imaginaria Dos,F,"
    "Guatemala,Albergue Ficticio A.C.",
    # no perpetrator known
    "C-002,15/06/2022,closed,V-2,male,9-17,HND,MX,Forced labour,withholds documents,Construction,,"
    "Family/Relative,2022,,,,,Albergue Ficticio A.C.",
    "C-003,2023-01-10,under investigation,V-3,Female,Age 30-38,El Salvador,US,sexual exploitation,"
    "false promises;psychoactive substances,,Pornography,friend,2019,P-9,Zutano Sintético Tres,hombre,"
    "SV,Fundación Inventada",
    # no organization
    "C-004,2023-02-11,Open,V-4,X,48+,Mexico,MX,forced marriage,,,,family,2021,,,,,",
    "C-005,2023-05-05,Open,V-5,F,21-23,Honduras,MX,Smuggling,,,,,2023,,,,,",  # not an exploitation type
    "C-006,2024-07-01,Open,V-6,unknown,27--29,Venezuela,US;MX,Forced labour,Excessive working hours,"
    "Domestic work,,unknown,2024,P-6,Perengano Ficticio Seis,M,US,Fundación Inventada",
]


def test_htcds_cases(tmp_path: Path) -> None:
    source = _write(tmp_path / "cases.csv", HTCDS_HEADER, HTCDS_ROWS)
    with open_store(":memory:") as store:
        result = import_file(store, source, "htcds-cases")
        assert result.rows_read == 7
        assert (result.rows_stored, result.rows_rejected) == (6, 1)
        assert result.rows_read == result.rows_stored + result.rows_rejected
        rejects = _rejects(store)
        assert [(r.source_row, r.field, r.reason, r.value) for r in rejects] == [
            (7, "hte_exploitation_type → trafficking_case.exploitation_type", "invalid_enum", "Smuggling")
        ]
        counts = store.counts_by_schema()
        assert counts["TraffickingCase"] == 5
        assert counts["Case"] == 5
        assert counts["Exploited"] == 4
        assert counts["Organization"] == 2
        assert counts["Person"] == 5 + 4  # victims + perpetrators

        cases = {
            store.entity(t.first("case") or "").first("case_number"): t
            for t in store.iter_entities(schema="TraffickingCase")
        }
        first = cases["C-001"]
        assert sorted(first.properties["exploitation_type"]) == ["forced_labour", "sexual_exploitation"]
        assert sorted(first.properties["means_of_control"]) == ["debt_bondage", "threats"]
        assert sorted(first.properties["country_of_exploitation"]) == ["MX", "US"]
        assert first.first("age_band") == "age_18_20"
        assert first.first("citizenship") == "GT"
        assert first.first("gender") == "female"
        assert first.first("recruiter_relation") == "intimate_partner"
        assert first.first("labour_type") == "agriculture"
        assert first.first("sex_type") == "prostitution"
        assert first.first("date") == "2020"
        assert cases["C-002"].first("recruiter_relation") == "family"
        assert cases["C-002"].first("age_band") == "age_9_17"
        assert cases["C-003"].first("age_band") == "age_30_38"
        assert sorted(cases["C-003"].properties["means_of_control"]) == ["false_promises", "psychoactive_substances"]
        assert cases["C-004"].first("age_band") == "age_48_plus"
        assert cases["C-004"].first("gender") == "other"

        case = store.entity(first.first("case") or "")
        assert case is not None
        assert (case.first("status"), case.first("opened_date")) == ("open", "2021-03-04")
        assert store.entity(cases["C-002"].first("case") or "").first("opened_date") == "2022-06-15"
        assert store.entity(cases["C-003"].first("case") or "").first("status") == "under_investigation"
        org = store.entity(case.first("agency") or "")
        assert org is not None
        assert org.first("name") == "Albergue Ficticio A.C."
        assert store.entity(cases["C-004"].first("case") or "").first("agency") is None

        victim = store.entity(first.first("victim") or "")
        assert victim is not None
        assert victim.properties == {"gender": ["female"], "nationality": ["GT"]}  # no name, nothing else

        exploited = [e for e in store.iter_entities(schema="Exploited") if e.first("victim") == victim.id]
        assert len(exploited) == 2
        names = sorted(store.entity(e.first("exploiter") or "").first("name") for e in exploited)
        assert names == ["Fulano Inventado Uno", "Mengana Imaginaria Dos"]
        assert all(e.first("trafficking_case") == first.id for e in exploited)
        perpetrators = {p.first("name"): p for p in store.iter_entities(schema="Person") if p.first("name")}
        assert perpetrators["Mengana Imaginaria Dos"].first("nationality") == "GT"
        assert perpetrators["Zutano Sintético Tres"].first("gender") == "male"
        assert not any(
            e.first("victim") == cases["C-002"].first("victim") for e in store.iter_entities(schema="Exploited")
        )
        _assert_no_dangling(store)


SEIZURE_HEADER = (
    "seizure_id,date,port,place,state,country,drug,quantity,unit,concealment,mode,agency,persons,"
    "vehicle_plate,vehicle_make"
)
SEIZURE_ROWS = [
    "S-0001,2023-04-02,San Ysidro,San Diego,California,US,fentanyl,12.5,kg,Hidden compartment;gas tank,"
    "POV,CBP Office of Field Operations,Fulano Inventado Uno; Mengana Imaginaria Dos,ABC1234,Nissan",
    "S-0002,05/04/2023,,Nogales,Sonora,México,cristal,30,kilos,llanta,terrestre,Guardia Nacional,"
    "Zutano Sintético Tres,XYZ-98-76,Ford",
    "S-0003,2023-04-07,,Nogales,Sonora,México,marihuana,250,lbs,commercial load,truck,Guardia Nacional,,,",
    "S-0004,2023-05-01,Ysleta,El Paso,TX,US,cocaine,4,kg,backpack,pedestrian,CBP Office of Field Operations,,,",
    "S-0005,2023-05-09,,Toluca,Mexico,MX,fentanyl pills,1500,pills,paquete,mail,,Perengano Ficticio Cinco,,",
    "S-0006,2023-05-10,,Tijuana,Baja California,MX,cocaine,3,barrels,,sea,Secretaría de Marina,,,",  # bad unit
    "S-0007,2023-06-11,San Ysidro,San Diego,California,US,heroin,2.2,kg,tires,car,"
    "CBP Office of Field Operations,,ABC1234,Nissan",
]


def test_drug_seizures(tmp_path: Path) -> None:
    source = _write(tmp_path / "seizures.csv", SEIZURE_HEADER, SEIZURE_ROWS)
    with open_store(":memory:") as store:
        result = import_file(store, source, "drug-seizures")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (7, 6, 1)
        rejects = [(r.source_row, r.field, r.reason, r.value) for r in _rejects(store)]
        assert rejects == [(7, "quantity → seizure.quantity", "invalid_quantity", "3 barrels")]
        counts = store.counts_by_schema()
        assert counts["DrugSeizure"] == 6
        assert counts["Organization"] == 2  # two agencies; the navy's row was rejected
        assert counts["Vehicle"] == 2  # the same plate and make in two seizures is one vehicle
        assert counts["Location"] == 4 + 2  # San Diego, Nogales, El Paso, Toluca; two ports
        seizures = {s.first("name"): s for s in store.iter_entities(schema="DrugSeizure")}
        first = seizures["S-0001"]
        assert first.first("drug") == "fentanyl"
        assert first.first("quantity") == "12.5 kg"
        assert first.first("state") == "US-CA"
        assert first.first("date") == "2023-04-02"
        assert first.first("mode") == "personal_vehicle"
        assert sorted(first.properties["concealment"]) == ["gas_tank", "vehicle_compartment"]
        assert sorted(first.properties["persons"]) == ["Fulano Inventado Uno", "Mengana Imaginaria Dos"]
        port = store.entity(first.first("port") or "")
        assert port is not None
        assert (port.first("name"), port.first("location_type")) == ("San Ysidro", "port_of_entry")
        place = store.entity(first.first("place") or "")
        assert place is not None
        assert place.first("municipality") == "San Diego"
        agency = store.entity(first.first("agency") or "")
        assert agency is not None
        assert (agency.first("name"), agency.first("org_type")) == ("CBP Office of Field Operations", "agency")
        vehicle = store.entity(first.first("vehicle") or "")
        assert vehicle is not None
        assert (vehicle.first("plate"), vehicle.first("make")) == ("ABC1234", "Nissan")
        assert seizures["S-0007"].first("vehicle") == vehicle.id

        second = seizures["S-0002"]
        assert (second.first("date"), second.first("drug"), second.first("drug_name")) == (
            "2023-04-05",
            "methamphetamine",
            "cristal",
        )
        assert (second.first("state"), second.first("country"), second.first("quantity")) == ("MX-SON", "MX", "30 kg")
        assert second.first("concealment") == "tires"
        assert second.first("port") is None
        assert seizures["S-0002"].first("place") == seizures["S-0003"].first("place")  # Nogales, once
        assert seizures["S-0003"].first("quantity") == "250 lb"
        assert seizures["S-0003"].first("mode") == "commercial_truck"
        assert seizures["S-0003"].first("vehicle") is None
        assert seizures["S-0004"].first("state") == "US-TX"
        assert seizures["S-0005"].first("state") == "MX-MEX"
        assert seizures["S-0005"].first("quantity") == "1500 count"
        assert seizures["S-0005"].first("agency") is None
        _assert_no_dangling(store)


ACLED_HEADER = (
    "event_id_cnty,event_date,year,event_type,sub_event_type,actor1,actor2,admin1,admin2,admin3,location,"
    "latitude,longitude,source,notes,fatalities,iso,country"
)
ACLED_ROWS = [
    "MEX90001,15 March 2021,2021,Battles,Armed clash,Cartel Ficticio del Norte,Police Forces of Mexico,"
    "Tamaulipas,Reynosa,,Reynosa,26.0922,-98.2779,Periódico Inventado,"
    '"On 15 March 2021, a fictional armed group clashed with police.",3,484,Mexico',
    "MEX90002,02 April 2021,2021,Violence against civilians,Attack,Cartel Ficticio del Norte,Civilians (Mexico),"
    "Chihuahua,Juarez,,Ciudad Juarez,31.7200,-106.4600,Diario Sintético,Synthetic note.,1,484,Mexico",
    "MEX90003,9 May 2021,2021,Violence against civilians,Abduction/forced disappearance,"
    "Unidentified Armed Group (Mexico),Civilians (Mexico),Mexico,Ecatepec de Morelos,,Ecatepec,19.6010,"
    "-99.0500,Diario Sintético,,0,484,Mexico",
    "MEX90004,2021-06-20,2021,Protests,Peaceful protest,Protesters (Mexico),,Mexico City,Cuauhtemoc,,"
    "Mexico City,19.4326,-99.1332,Periódico Inventado,,0,484,Mexico",
    "MEX90005,31 June 2021,2021,Riots,Mob violence,Rioters (Mexico),,Sonora,Nogales,,Nogales,31.3086,"
    "-110.9422,Diario Sintético,,0,484,Mexico",  # 31 June does not exist
    "USA90006,04 July 2021,2021,Battles,Armed clash,Cartel Ficticio del Norte,Rival Ficticio,Texas,Hidalgo,,"
    "McAllen,26.2034,-98.2300,Periódico Inventado,,2,840,United States",
    "MEX90007,10 August 2021,2021,Explosions/Remote violence,Remote explosive/landmine/IED,"
    "Cartel Ficticio del Norte,Military Forces of Mexico,Michoacan,Aguililla,,Aguililla,18.7370,"
    "-102.7880,Diario Sintético,,0,484,Mexico",
]


def test_acled_events(tmp_path: Path) -> None:
    source = _write(tmp_path / "acled.csv", ACLED_HEADER, ACLED_ROWS)
    with open_store(":memory:") as store:
        result = import_file(store, source, "acled-events")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (7, 6, 1)
        rejects = [(r.source_row, r.field, r.reason, r.value) for r in _rejects(store)]
        assert rejects == [(6, "event_date → event.date", "invalid_date", "31 June 2021")]
        counts = store.counts_by_schema()
        assert counts["ViolenceEvent"] == 6
        assert counts["Location"] == 6
        # actor1 and actor2 share a key prefix: an actor is one Organization whichever side it is on
        assert counts["Organization"] == 7
        events = {e.first("alias"): e for e in store.iter_entities(schema="ViolenceEvent")}
        clash = events["MEX90001"]
        assert clash.first("date") == "2021-03-15"
        assert clash.first("violence_type") == "clash"
        assert clash.first("name") == "Battles: Armed clash"
        assert (clash.first("killed"), clash.first("state"), clash.first("country")) == ("3", "MX-TAM", "MX")
        assert clash.first("municipality") == "Reynosa"
        assert clash.first("reported_by") == "Periódico Inventado"
        assert clash.first("summary") == "On 15 March 2021, a fictional armed group clashed with police."
        place = store.entity(clash.first("place") or "")
        assert place is not None
        assert (place.first("name"), place.first("geo"), place.first("state")) == (
            "Reynosa",
            "26.092200,-98.277900",
            "MX-TAM",
        )
        actor = store.entity(clash.first("perpetrator") or "")
        assert actor is not None
        assert actor.first("name") == "Cartel Ficticio del Norte"
        target = store.entity(clash.first("target") or "")
        assert target is not None
        assert target.first("name") == "Police Forces of Mexico"
        assert events["MEX90002"].first("perpetrator") == clash.first("perpetrator")
        assert events["MEX90002"].first("violence_type") == "other"
        assert events["MEX90002"].first("state") == "MX-CHH"
        assert events["MEX90003"].first("violence_type") == "kidnapping"
        assert events["MEX90003"].first("state") == "MX-MEX"  # ACLED's "Mexico" admin1: the State of Mexico
        assert events["MEX90004"].first("state") == "MX-CMX"
        assert events["MEX90004"].first("date") == "2021-06-20"
        assert events["MEX90004"].first("target") is None
        us = events["USA90006"]
        assert (us.first("state"), us.first("country"), us.first("killed")) == ("US-TX", "US", "2")
        assert events["MEX90007"].first("violence_type") == "other"
        assert events["MEX90007"].first("state") == "MX-MIC"
        _assert_no_dangling(store)
