#!/usr/bin/env bash
# Collecteur exec de l'agent Vigie : nombre de rendez-vous d'état civil du jour.
#
# Écrit du line protocol sur la sortie standard, une ligne par type de rendez-vous :
#   etat_civil_rdv,type=mariage prevus=3i,honores=1i
# L'agent ajoute ses étiquettes par défaut (service, site, host : config/agent.toml).
# Un code de sortie non nul (ou un dépassement du délai) est signalé par l'agent
# (vigie_collector_up,collector=rdv_etat_civil value=0) ; rien n'est envoyé.
#
# Source : l'export du logiciel de prise de rendez-vous, un fichier CSV par jour
#   /var/lib/rdv/export/AAAA-MM-JJ.csv   (colonnes : heure;type;statut)
# où statut vaut "prevu", "honore" ou "annule". RDV_EXPORT_DIR change le répertoire.
set -euo pipefail

dir="${RDV_EXPORT_DIR:-/var/lib/rdv/export}"
file="$dir/$(date +%F).csv"

if [[ ! -r "$file" ]]; then
    # Pas d'export aujourd'hui (jour férié, export pas encore fait) : aucun rendez-vous.
    echo "etat_civil_rdv,type=total prevus=0i,honores=0i"
    exit 0
fi

# Compte par type ; la première ligne est l'en-tête. Les espaces, virgules et signes égal
# d'un type sont échappés pour le line protocol.
awk -F';' '
    NR == 1 { next }
    $3 != "annule" {
        type = $2
        gsub(/[ ,=]/, "\\\\&", type)
        if (type == "") type = "inconnu"
        prevus[type]++
        total++
        if ($3 == "honore") { honores[type]++; total_honores++ }
    }
    END {
        for (t in prevus) printf "etat_civil_rdv,type=%s prevus=%di,honores=%di\n", t, prevus[t], honores[t] + 0
        printf "etat_civil_rdv,type=total prevus=%di,honores=%di\n", total + 0, total_honores + 0
    }
' "$file"
